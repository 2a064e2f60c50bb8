"""Label Studio result JSON ⇄ structured release annotations.

One release annotation = a release type, quotes linked to speaker mentions
carrying a canonical name, and an optional note. Offsets index the task's
``text`` (the release display text).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .schema import Schema, schema


@dataclass(frozen=True)
class QuoteAnn:
    start: int
    end: int
    text: str
    mention_start: int
    mention_end: int
    mention: str
    speaker: str


@dataclass(frozen=True)
class ReleaseAnn:
    release_type: str
    quotes: tuple[QuoteAnn, ...] = ()
    note: str = ""

    def to_dict(self) -> dict:
        return {
            "release_type": self.release_type,
            "quotes": [q.__dict__ for q in self.quotes],
            "note": self.note,
        }


class ResultError(ValueError):
    """A Label Studio result list that does not fit the config or the text."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def to_results(ann: ReleaseAnn, sc: Schema | None = None, origin: str = "manual") -> list[dict]:
    """Encode an annotation as Label Studio ``result`` items (as the UI saves them).

    ``origin`` is "manual" for annotations and "prediction" for pre-annotations.
    """
    sc = sc or schema()
    out: list[dict] = [{
        "id": "release_type", "from_name": sc.type_name, "to_name": sc.text_name,
        "type": "choices", "origin": origin, "value": {"choices": [ann.release_type]},
    }]
    speakers: dict[tuple[int, int, str], str] = {}
    for i, q in enumerate(ann.quotes):
        qid = f"q{i + 1}"
        out.append({
            "id": qid, "from_name": sc.span_name, "to_name": sc.text_name, "type": "labels",
            "origin": origin,
            "value": {"start": q.start, "end": q.end, "text": q.text, "labels": ["QUOTE"]},
        })
        key = (q.mention_start, q.mention_end, q.speaker)
        sid = speakers.get(key)
        if sid is None:
            sid = f"s{len(speakers) + 1}"
            speakers[key] = sid
            value = {"start": q.mention_start, "end": q.mention_end, "text": q.mention}
            out.append({"id": sid, "from_name": sc.span_name, "to_name": sc.text_name,
                        "type": "labels", "origin": origin, "value": {**value, "labels": ["SPEAKER"]}})
            out.append({"id": sid, "from_name": sc.canonical_name, "to_name": sc.text_name,
                        "type": "textarea", "origin": origin, "value": {**value, "text": [q.speaker]}})
        out.append({"from_id": qid, "to_id": sid, "type": "relation", "direction": "right",
                    "labels": [sc.relation_labels[0]] if sc.relation_labels else []})
    if ann.note:
        out.append({"id": "note", "from_name": sc.note_name, "to_name": sc.text_name,
                    "type": "textarea", "origin": origin, "value": {"text": [ann.note]}})
    return out


def from_results(results: list, text: str, sc: Schema | None = None) -> ReleaseAnn:
    """Decode Label Studio result items; raise ResultError listing every problem."""
    sc = sc or schema()
    problems: list[str] = []
    if not isinstance(results, list):
        raise ResultError([f"result is {type(results).__name__}, expected a list"])
    types: list[str] = []
    spans: dict[str, dict] = {}
    canon: dict[str, str] = {}
    rels: list[tuple[str, str]] = []
    note = ""
    for item in results:
        if not isinstance(item, dict):
            problems.append(f"result item is not an object: {item!r:.60}")
            continue
        kind = item.get("type")
        value = item.get("value") or {}
        if kind == "relation":
            rels.append((item.get("from_id"), item.get("to_id")))
        elif kind == "choices" and item.get("from_name") == sc.type_name:
            types.extend(value.get("choices") or [])
        elif kind == "labels" and item.get("from_name") == sc.span_name:
            labels = value.get("labels") or []
            if len(labels) != 1 or labels[0] not in sc.span_labels:
                problems.append(f"span {item.get('id')}: unknown labels {labels}")
                continue
            s, e = value.get("start"), value.get("end")
            if not (isinstance(s, int) and isinstance(e, int) and 0 <= s < e <= len(text)):
                problems.append(f"span {item.get('id')}: bad offsets {s}..{e} (text length {len(text)})")
                continue
            if value.get("text") is not None and text[s:e] != value.get("text"):
                problems.append(f"span {item.get('id')}: offsets {s}..{e} give {text[s:e][:40]!r}, "
                                f"result says {str(value.get('text'))[:40]!r}")
                continue
            spans[item.get("id")] = {"label": labels[0], "start": s, "end": e}
        elif kind == "textarea" and item.get("from_name") == sc.canonical_name:
            canon[item.get("id")] = " ".join(" ".join(value.get("text") or []).split())
        elif kind == "textarea" and item.get("from_name") == sc.note_name:
            note = " ".join(value.get("text") or [])
        else:
            problems.append(f"unknown result item type={kind} from_name={item.get('from_name')}")
    if len(types) != 1:
        problems.append(f"expected exactly one release type, got {types}")
    elif types[0] not in sc.types:
        problems.append(f"unknown release type {types[0]!r}; expected one of {', '.join(sc.types)}")
    said_by: dict[str, list[str]] = {}
    for f, t in rels:
        if f not in spans or t not in spans:
            problems.append(f"relation {f}->{t} points to a missing region")
            continue
        if spans[f]["label"] != "QUOTE" or spans[t]["label"] != "SPEAKER":
            problems.append(f"relation {f}->{t} must go from a QUOTE to a SPEAKER")
            continue
        said_by.setdefault(f, []).append(t)
    quotes = []
    for rid, sp in spans.items():
        if sp["label"] == "SPEAKER":
            if not canon.get(rid):
                problems.append(f"SPEAKER {rid} {text[sp['start']:sp['end']]!r} has no canonical name")
            continue
        targets = said_by.get(rid, [])
        if len(targets) != 1:
            problems.append(f"QUOTE {rid} {text[sp['start']:sp['end']][:40]!r} has {len(targets)} "
                            "SPEAKER relations, expected 1")
            continue
        m = spans[targets[0]]
        quotes.append(QuoteAnn(sp["start"], sp["end"], text[sp["start"]:sp["end"]],
                               m["start"], m["end"], text[m["start"]:m["end"]], canon.get(targets[0], "")))
    if problems:
        raise ResultError(problems)
    quotes.sort(key=lambda q: (q.start, q.end))
    return ReleaseAnn(types[0], tuple(quotes), note)
