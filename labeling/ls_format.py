"""Label Studio result JSON ⇄ kzclassify's ``Analysis``: the one place that knows the LS format.

``to_results(analysis)`` encodes a model's analysis (pre-annotation, ML backend) or an annotation;
``from_results(results, text)`` decodes an annotation into the same types (training rows,
agreement, validation). Offsets index the task's ``text`` (the release display text).
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, replace

from kzclassify import Analysis, Person, Quote, ReleaseType

from .schema import Schema, schema


@dataclass(frozen=True)
class Annotation:
    """One annotated release: the same ``Analysis`` record kzclassify produces, plus the annotator's note.

    Annotated quotes have ``resolved_by="annotator"`` and score 1.0; the release type has score 1.0.
    """

    analysis: Analysis
    note: str = ""

    @property
    def release_type(self) -> str:
        return self.analysis.release_type.label

    @property
    def quotes(self) -> tuple[Quote, ...]:
        return self.analysis.quotes


def annotated(release_type: str, quotes=(), note: str = "", mentions=()) -> Annotation:
    """An Annotation from a label, its quotes (see ``annotated_quote``) and the other ``mentions``
    of people as ``(start, end, text, canonical name)`` (PERSON regions). The people of the release
    are the speakers' and the mentions' canonical names, each with its mentions, in order of first
    mention; every quote points at its speaker's person."""
    quotes = tuple(quotes)
    named = [(q.mention_start, q.mention_end, q.speaker_mention, q.speaker)
             for q in quotes if q.mention_start >= 0 and q.speaker]
    grouped: dict[str, set[tuple[int, int, str]]] = {}
    for s, e, said, name in named + [m for m in mentions if m[3]]:
        grouped.setdefault(name, set()).add((s, e, said))
    people = sorted((Person(name, (), tuple(sorted(ms))) for name, ms in grouped.items()),
                    key=lambda p: (p.mentions[0][:2], p.name))
    index = {p.name: i for i, p in enumerate(people)}
    quotes = tuple(replace(q, person=index.get(q.speaker, -1)) for q in quotes)
    return Annotation(Analysis(ReleaseType.from_scores({release_type: 1.0}), quotes, (), tuple(people)), note)


def annotated_quote(text: str, start: int, end: int, mention_start: int, mention_end: int, speaker: str) -> Quote:
    """A quote as an annotator marks it: spans into ``text`` and the canonical speaker."""
    return Quote(text[start:end], start, end, "", "", speaker, text[mention_start:mention_end],
                 mention_start, mention_end, "annotator", 1.0)


class ResultError(ValueError):
    """A Label Studio result list that does not fit the config or the text."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


PERSON_LAYERS = ("quotes", "all")  # the PERSON regions a pre-annotation shows: see ``people_in_view``


def people_in_view(analysis: Analysis) -> set[int]:
    """The persons (indexes into ``analysis.people``) the default PERSON layer shows: those who speak
    (the person of a quote: the guide resolves a SPEAKER's title or role to the person the release
    names, so the named mentions are what the annotator checks the canonical name against) and those
    addressed or named in a quote. A release without quotes shows none. The layer shows each way
    such a person is written once (its first free mention): the annotator checks a written form's
    canonical name once, and 16 "Президент" regions in one release hide the text."""
    spans = sorted((q.start, q.end) for q in analysis.quotes)
    starts = [s for s, _ in spans]
    out = {q.person for q in analysis.quotes if q.person >= 0}
    for i, p in enumerate(analysis.people):
        for s, e, _ in p.mentions:
            k = bisect_right(starts, s) - 1
            if k >= 0 and e <= spans[k][1]:
                out.add(i)
                break
    return out


def to_results(ann: Analysis | Annotation, sc: Schema | None = None, origin: str = "manual",
               persons: str = "all") -> list[dict]:
    """Encode an analysis (a model's) or an annotation (an annotator's) as Label Studio ``result``
    items, as the UI saves them. ``origin`` is "manual" for annotations and "prediction" for
    pre-annotations. A quote without a speaker mention is left out: the config links every QUOTE
    to a SPEAKER region, and the annotator adds what the model did not find. Every other mention
    of a person of ``analysis.people`` becomes a PERSON region with the person's canonical name,
    unless it is a SPEAKER region already or overlaps a quote or a speaker mention; with
    ``persons="quotes"`` only the persons of ``people_in_view``, each written form once
    (``persons="all"``: every mention of everyone).
    """
    if persons not in PERSON_LAYERS:
        raise ValueError(f"persons must be one of {', '.join(PERSON_LAYERS)}, not {persons!r}")
    sc = sc or schema()
    analysis, note = (ann.analysis, ann.note) if isinstance(ann, Annotation) else (ann, "")
    out: list[dict] = [{
        "id": "release_type", "from_name": sc.type_name, "to_name": sc.text_name,
        "type": "choices", "origin": origin, "value": {"choices": [analysis.release_type.label]},
    }]
    speakers: dict[tuple[int, int, str], str] = {}
    for i, q in enumerate(q for q in analysis.quotes if q.mention_start >= 0):
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
            value = {"start": q.mention_start, "end": q.mention_end, "text": q.speaker_mention}
            out.append({"id": sid, "from_name": sc.span_name, "to_name": sc.text_name,
                        "type": "labels", "origin": origin, "value": {**value, "labels": ["SPEAKER"]}})
            out.append({"id": sid, "from_name": sc.canonical_name, "to_name": sc.text_name,
                        "type": "textarea", "origin": origin, "value": {**value, "text": [q.speaker]}})
        out.append({"from_id": qid, "to_id": sid, "type": "relation", "direction": "right",
                    "labels": [sc.relation_labels[0]] if sc.relation_labels else []})
    out += _person_regions(analysis, sc, origin, people_in_view(analysis) if persons == "quotes" else None)
    if note:
        out.append({"id": "note", "from_name": sc.note_name, "to_name": sc.text_name,
                    "type": "textarea", "origin": origin, "value": {"text": [note]}})
    return out


def _person_regions(analysis: Analysis, sc: Schema, origin: str, only: set[int] | None = None) -> list[dict]:
    """PERSON regions (span + canonical name) for the mentions of ``analysis.people`` that are free:
    not inside or across a quote or a speaker mention. With ``only``: the persons in it, the first
    free mention of each written form. O(m log m) in the number of spans."""
    taken = sorted({(q.start, q.end) for q in analysis.quotes}
                   | {(q.mention_start, q.mention_end) for q in analysis.quotes if q.mention_start >= 0})
    starts, reach, far = [s for s, _ in taken], [], -1
    for _, e in taken:  # reach[i]: the furthest end among the first i + 1 taken spans
        far = max(far, e)
        reach.append(far)
    out: list[dict] = []
    seen: set[tuple[int, int]] = set()
    for n, person in enumerate(analysis.people):
        if only is not None and n not in only:
            continue
        forms: set[str] = set()
        for s, e, said in sorted(person.mentions):
            i = bisect_right(starts, e - 1) - 1  # the taken spans that start before this mention ends
            if (s, e) in seen or not 0 <= s < e or (i >= 0 and reach[i] > s) or (only is not None and said in forms):
                continue
            forms.add(said)
            seen.add((s, e))
            pid = f"p{len(seen)}"
            value = {"start": s, "end": e, "text": said}
            out.append({"id": pid, "from_name": sc.span_name, "to_name": sc.text_name, "type": "labels",
                        "origin": origin, "value": {**value, "labels": ["PERSON"]}})
            out.append({"id": pid, "from_name": sc.canonical_name, "to_name": sc.text_name,
                        "type": "textarea", "origin": origin, "value": {**value, "text": [person.name]}})
    return out


def confidence(analysis: Analysis) -> float:
    """The calibrated confidence of a pre-annotation: the probability of its least certain part (the
    release type, or a quote's speaker); 0 for an empty text."""
    if analysis.release_type.label is None:
        return 0.0
    return min([analysis.release_type.score] + [q.score for q in analysis.quotes if q.mention_start >= 0])


def review_note(analysis: Analysis) -> str:
    """What a person should check, for Label Studio's ``review`` field: "" when nothing needs review, else
    the type's reasons and each flagged quote's (numbered as the quote regions q1, q2, ...)."""
    parts = [f"type: {', '.join(analysis.release_type.reasons)}"] if analysis.release_type.needs_review else []
    shown = [q for q in analysis.quotes if q.mention_start >= 0]
    parts += [f"q{i + 1}: {', '.join(q.reasons)}" for i, q in enumerate(shown) if q.needs_review]
    parts += [f"quote at {q.start}: {', '.join(q.reasons)}" for q in analysis.quotes
              if q.mention_start < 0 and q.needs_review]
    return "; ".join(parts)


def to_prediction(analysis: Analysis, model_version: str, sc: Schema | None = None, persons: str = "quotes") -> dict:
    """One Label Studio prediction (push and the ML backend alike). Its ``score`` is the calibrated
    confidence (``confidence``: the least certain part's probability of being right), so Label Studio's
    uncertainty sampling, lowest score first, opens the least certain release first; ``runner_up`` and
    ``margin`` (of the calibrated type scores), ``needs_review`` and ``review`` (the reasons) beside it.
    ``persons``: the PERSON layer (``to_results``), by default the persons of the quotes."""
    rt = analysis.release_type
    review = {"needs_review": analysis.needs_review, "review": review_note(analysis)}
    if rt.label is None:  # empty text: nothing to pre-annotate
        return {"model_version": model_version, "score": 0.0, **review, "result": []}
    return {"model_version": model_version, "score": round(confidence(analysis), 4), "runner_up": rt.runner_up,
            "margin": round(rt.margin, 4), **review, "result": to_results(analysis, sc, origin="prediction", persons=persons)}


def from_results(results: list, text: str, sc: Schema | None = None) -> Annotation:
    """Decode Label Studio result items into an Annotation; raise ResultError listing every problem."""
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
        person = next((r for r in (f, t) if spans[r]["label"] == "PERSON"), None)
        if person is not None:
            problems.append(f"relation {f}->{t} links PERSON {person}: a PERSON is never linked; "
                            "the one who says a quote is its SPEAKER")
            continue
        if spans[f]["label"] != "QUOTE" or spans[t]["label"] != "SPEAKER":
            problems.append(f"relation {f}->{t} must go from a QUOTE to a SPEAKER")
            continue
        said_by.setdefault(f, []).append(t)
    quotes = []
    for rid, sp in spans.items():
        if sp["label"] == "PERSON":  # a mention of a person, named or not (a nameless one names no one)
            continue
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
        quotes.append(annotated_quote(text, sp["start"], sp["end"], m["start"], m["end"], canon.get(targets[0], "")))
    if problems:
        raise ResultError(problems)
    quotes.sort(key=lambda q: (q.start, q.end))
    mentions = [(sp["start"], sp["end"], text[sp["start"]:sp["end"]], canon.get(rid, ""))
                for rid, sp in spans.items() if sp["label"] == "PERSON"]
    return annotated(types[0], quotes, note, mentions)
