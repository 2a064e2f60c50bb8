"""Submit readings made outside the UI as Label Studio annotations, through the API.

A reading is one JSON line per release, written by an annotator while reading
the release (see labeling/GUIDE.md):

    {"id": release id, "type": label,
     "quotes": [{"text", "speaker_mention", "speaker", "occurrence"?}], "note": str}

Quote and mention texts are located in the release text (``occurrence`` picks
the k-th match of a repeated quote); each becomes an annotation on the task,
completed by the annotator's Label Studio user and linked to the task's
prediction (``parent_prediction``), exactly as when the annotator accepts and
corrects a pre-annotation in the UI.
"""
from __future__ import annotations

import json
from pathlib import Path

from .ls_format import Annotation, annotated, annotated_quote, to_results


class ReadingError(ValueError):
    pass


def _all(text: str, s: str) -> list[int]:
    out, i = [], text.find(s)
    while s and i >= 0:
        out.append(i)
        i = text.find(s, i + 1)
    return out


def locate_mention(text: str, mention: str, q_start: int, q_end: int, quote_spans: list[tuple[int, int]]) -> int:
    """Offset of the occurrence of ``mention`` that attributes the quote at q_start..q_end.

    Preference: right after the quote in the same paragraph (the tail), then the
    nearest occurrence before the quote, then the nearest after; occurrences
    inside any quote are skipped.
    """
    occ = [i for i in _all(text, mention)
           if not any(a <= i < b for a, b in quote_spans)]
    if not occ:
        occ = _all(text, mention)
    if not occ:
        return -1
    para_end = text.find("\n", q_end)
    para_end = len(text) if para_end < 0 else para_end
    tail = [i for i in occ if q_end <= i < para_end]
    if tail:
        return tail[0]
    before = [i for i in occ if i < q_start]
    if before:
        return before[-1]
    return min(occ, key=lambda i: abs(i - q_end))


def reading_to_annotation(reading: dict, text: str) -> Annotation:
    """Turn one reading into an Annotation with offsets; ReadingError on any mismatch."""
    spans = []
    for j, q in enumerate(reading.get("quotes") or []):
        occ = _all(text, q.get("text", ""))
        k = int(q.get("occurrence", 1))
        if not occ or k > len(occ):
            raise ReadingError(f"quote {j}: text not found: {q.get('text', '')[:50]!r}")
        s = occ[k - 1]
        spans.append((s, s + len(q["text"])))
    quotes = []
    for (s, e), q in zip(spans, reading.get("quotes") or []):
        m = q.get("speaker_mention", "")
        ms = locate_mention(text, m, s, e, spans)
        if ms < 0:
            raise ReadingError(f"speaker mention not found: {m!r}")
        quotes.append(annotated_quote(text, s, e, ms, ms + len(m), " ".join(q["speaker"].split())))
    quotes.sort(key=lambda q: q.start)
    return annotated(reading["type"], quotes, reading.get("note", ""))


def load_readings(path: str | Path) -> dict[str, dict]:
    out = {}
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                r = json.loads(line)
            except json.JSONDecodeError as e:
                raise ReadingError(f"{path}:{n}: not JSON ({e.msg})") from None
            out[r["id"]] = r  # a later line for the same release is the annotator's correction
    return out


def ensure_user(client, email: str) -> int:
    for u in client.users.list():
        if u.email == email:
            return u.id
    name = email.split("@")[0]
    return client.users.create(email=email, username=name, first_name=name).id


def submit(client, project_id: int, readings: dict[str, dict], annotator: str,
           ground_truth: bool = False, lead_time: float | None = None) -> tuple[int, list[str]]:
    """Create one annotation per reading on the matching task. Returns (created, problems)."""
    uid = ensure_user(client, annotator)
    created, problems = 0, []
    tasks = {t.data.get("release_id"): t for t in client.tasks.list(project=project_id, fields="all")}
    for rid, reading in readings.items():
        task = tasks.get(rid)
        if task is None:
            problems.append(f"{rid}: no task in project {project_id}")
            continue
        try:
            ann = reading_to_annotation(reading, task.data["text"])
        except ReadingError as e:
            problems.append(f"{rid}: {e}")
            continue
        preds = task.predictions or []
        parent = (preds[0]["id"] if isinstance(preds[0], dict) else preds[0].id) if preds else None
        client.annotations.create(task.id, result=to_results(ann), completed_by=uid, project=project_id,
                                  parent_prediction=parent, ground_truth=ground_truth,
                                  lead_time=lead_time if lead_time is not None else 0.0)
        created += 1
    return created, problems
