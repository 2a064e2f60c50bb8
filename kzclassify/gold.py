"""Your own annotated releases (a gold JSONL file) and how well the models do on them (``kzclassify evaluate``).

The gold format, one JSON object per line::

    {"text": "Мемлекет басшысы ... – Жақсы, – деді Қасым-Жомарт Тоқаев.",
     "type": "phone_call",
     "quotes": [{"start": 73, "end": 78, "speaker": "Қасым-Жомарт Тоқаев"}]}

* ``text`` (required): the release; offsets index it exactly as written in the line.
* ``type``: the release type (one of the model's labels), or absent/null when not annotated.
* ``quotes``: every direct quote of the release (an empty list: none), or absent when quotes were not
  annotated. A quote is ``start``/``end`` into ``text``, or ``quote``: its exact words (found in
  ``text`` after the previous quote); ``speaker``: the canonical speaker (nominative, full name as the
  annotation guide says); null/absent means no speaker (scored as such).
* ``id`` (optional): your name for the release, shown in errors.

A Label Studio export (the project's JSON) converts to this format with
``python -m labeling gold EXPORT -o gold.jsonl`` (the labeling tools know Label Studio's format).

Scores (``evaluate``): release type accuracy, macro-F1 and per-class precision/recall/F1 over the
releases with a type; quotes exact P/R/F1 (the same span), token P/R/F1 (word overlap), speaker
accuracy on the exactly-found quotes and on the quotes matched by overlap, and end-to-end F1 (span
and speaker right) over the releases with quotes — the definitions of ``kzclassify.metrics``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .metrics import SpanCounts, type_scores
from .readers import CorpusError, read_document


@dataclass(frozen=True)
class GoldRelease:
    """One annotated release: ``quotes`` as ``(start, end, speaker)``; ``type``/``quotes`` None when not annotated."""

    id: str
    text: str
    type: str | None
    quotes: tuple[tuple[int, int, str | None], ...] | None


def parse_line(obj, where: str) -> GoldRelease:
    """One gold object → GoldRelease; ValueError naming ``where`` (file:line) and the field."""
    if not isinstance(obj, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{where}: \"text\" must be a non-empty string")
    rid = str(obj.get("id") or where)
    rtype = obj.get("type", obj.get("release_type"))
    if rtype is not None and not isinstance(rtype, str):
        raise ValueError(f"{where}: \"type\" must be a string or null")
    quotes = obj.get("quotes")
    if quotes is None:
        return GoldRelease(rid, text, rtype, None)
    if not isinstance(quotes, list):
        raise ValueError(f"{where}: \"quotes\" must be a list")
    out, at = [], 0
    for i, q in enumerate(quotes):
        if not isinstance(q, dict):
            raise ValueError(f"{where}: quotes[{i}] must be an object")
        s, e = q.get("start"), q.get("end")
        if s is None and isinstance(q.get("quote"), str) and q["quote"]:
            s = text.find(q["quote"], at)
            if s < 0:
                raise ValueError(f"{where}: quotes[{i}]: {q['quote'][:40]!r} is not in the text (after offset {at})")
            e = s + len(q["quote"])
        if not (isinstance(s, int) and isinstance(e, int) and 0 <= s < e <= len(text)):
            raise ValueError(f"{where}: quotes[{i}]: give start/end (0 <= start < end <= {len(text)}) or \"quote\"")
        sp = q.get("speaker")
        if sp is not None and not isinstance(sp, str):
            raise ValueError(f"{where}: quotes[{i}]: \"speaker\" must be a string or null")
        out.append((s, e, " ".join(sp.split()) if sp else None))
        at = e
    return GoldRelease(rid, text, rtype, tuple(out))


def read_gold(path: str | Path) -> list[GoldRelease]:
    """Read a gold JSONL file (any encoding kzclassify.readers reads); ValueError on the first bad line.
    A Label Studio export (a JSON list of tasks) is refused with the command that converts it."""
    doc = read_document(path)
    text = doc.text.lstrip()
    if text.startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            data = None
        if isinstance(data, list) and data and isinstance(data[0], dict) and "annotations" in data[0]:
            raise CorpusError(f"{path}: a Label Studio export; convert it first: "
                              f"python -m labeling gold {path} -o gold.jsonl")
        raise CorpusError(f"{path}: a JSON list; expected JSON Lines (one release object per line)")
    out = []
    for n, line in enumerate(doc.text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}:{n}: not valid JSON ({e.msg}, column {e.colno})") from None
        out.append(parse_line(obj, f"{path}:{n}"))
    if not out:
        raise ValueError(f"{path}: no releases (expected one JSON object per line)")
    return out


def gold_line(text: str, release_type: str | None, quotes, rid: str | None = None) -> dict:
    """A gold JSONL object from an annotation: ``quotes`` as ``(start, end, speaker)``."""
    obj = {"id": rid} if rid else {}
    obj.update({"text": text, "type": release_type,
                "quotes": [{"start": s, "end": e, "quote": text[s:e], "speaker": sp} for s, e, sp in quotes]})
    return obj


def evaluate(analyzer, gold: list[GoldRelease]) -> dict:
    """Scores of ``analyzer``'s models on ``gold`` (module docstring); errors lists what was skipped."""
    typed = [g for g in gold if g.type is not None]
    preds = analyzer.classify_many([g.text for g in typed]) if typed else []
    known = set(analyzer._model("release_type").labels)
    unknown = sorted({g.type for g in typed} - known)
    report: dict = {"releases": len(gold), "model_version": analyzer.model_version}
    if typed:
        report["type"] = type_scores([g.type for g in typed], [p.label for p in preds], sorted(known))
        report["type"]["unknown_labels"] = unknown
    counts = SpanCounts()
    with_quotes = [g for g in gold if g.quotes is not None]
    for g in with_quotes:
        pred = [(q.start, q.end, q.speaker) for q in analyzer.extract_quotes(g.text)]
        counts.add(g.text, [(s, e, sp or "") for s, e, sp in g.quotes], pred)
    if with_quotes:
        report["quotes"] = {"releases": len(with_quotes), **counts.summary()}
    return report


def format_table(report: dict) -> str:
    """The report as a few aligned lines for a person."""
    lines = [f"{report['releases']} releases, models {report['model_version']}"]
    t = report.get("type")
    if t:
        lines.append(f"type ({t['n']} releases): accuracy {t['accuracy']:.3f}  macro-F1 {t['macro_f1']:.3f}")
        lines.append(f"  {'label':<12} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>8}")
        for label, c in t["per_class"].items():
            lines.append(f"  {label:<12} {c['precision']:>9.3f} {c['recall']:>7.3f} {c['f1']:>6.3f} {c['support']:>8}")
        if t["unknown_labels"]:
            lines.append(f"  labels the model does not know (always wrong): {', '.join(t['unknown_labels'])}")
    q = report.get("quotes")
    if q:
        lines.append(f"quotes ({q['releases']} releases, {q['gold_quotes']} annotated, {q['pred_quotes']} found):")
        lines.append(f"  exact  P {q['exact_p']:.3f}  R {q['exact_r']:.3f}  F1 {q['exact_f1']:.3f}")
        lines.append(f"  token  P {q['token_p']:.3f}  R {q['token_r']:.3f}  F1 {q['token_f1']:.3f}")
        lines.append(f"  speaker accuracy: {q['speaker_acc_exact']:.3f} on exact quotes, "
                     f"{q['speaker_acc_overlap']:.3f} on overlapping ones")
        lines.append(f"  end to end (span and speaker)  F1 {q['e2e_f1']:.3f}")
    return "\n".join(lines)
