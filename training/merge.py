"""The retraining's data: the committed dataset merged with a Label Studio project's export, and the label
diff against the champion's training rows.

Rules (one place):
- In each task the annotation that counts is the adjudicated one (``ground_truth``) when exactly one is
  marked, else the newest submitted one (``updated_at``, then ``created_at``); cancelled ones never count.
- A task without a submitted annotation is skipped and counted (``skipped_unannotated``), never an error.
- A release (its id: the sha1 of the folded text) in both exports takes the newer counting annotation; on a
  tie the project's wins (it is the live one).
- Everything else an annotation can get wrong (a span off its text, an unknown label…) is an
  ``InvalidExport`` listing the problems: nothing is dropped silently.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from kzclassify._text import fold_whitespace, release_id
from labeling.validate import validate_export

from .data import InvalidExport, QUOTE_FIELDS, split_of

DIFF_COUNTS = ("releases_added", "releases_removed", "labels_changed", "quotes_changed")


@dataclass
class Merged:
    rows: list[dict]  # training rows (training.data.rows_from_export's shape), in release-id order
    counts: dict = field(default_factory=dict)  # tasks, annotated, skipped_unannotated, from_project, …


def _when(ann: dict) -> dt.datetime:
    for key in ("updated_at", "created_at"):
        v = ann.get(key)
        if isinstance(v, str) and v:
            try:
                t = dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
                return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)
            except ValueError:
                continue
    return dt.datetime.min.replace(tzinfo=dt.timezone.utc)


def counting_annotation(task: dict) -> dict | None:
    """The annotation of ``task`` that counts (see the module's rules), or None when none was submitted."""
    anns = task.get("annotations")
    anns = [a for a in anns if isinstance(a, dict) and not a.get("was_cancelled")] if isinstance(anns, list) else []
    if not anns:
        return None
    gt = [a for a in anns if a.get("ground_truth")]
    return max(gt if len(gt) == 1 else anns, key=_when)


def _annotated(export, source: str) -> tuple[dict[str, tuple[dt.datetime, dict]], int, int]:
    """release id → (time, task with only its counting annotation); the number of tasks and of skipped ones."""
    if not isinstance(export, list):
        raise ValueError(f"{source} export is a {type(export).__name__}, expected a list of tasks")
    out: dict[str, tuple[dt.datetime, dict]] = {}
    skipped = 0
    for task in export:
        text = task.get("data", {}).get("text") if isinstance(task, dict) and isinstance(task.get("data"), dict) else None
        ann = counting_annotation(task) if isinstance(task, dict) else None
        if ann is None and isinstance(text, str):
            skipped += 1
            continue
        if not isinstance(text, str) or not fold_whitespace(text):
            out[f"{source}#{len(out)}"] = (dt.datetime.min.replace(tzinfo=dt.timezone.utc), task)  # validation names it
            continue
        rid = release_id(text)
        one = {**task, "annotations": [ann]}
        if rid not in out or _when(ann) >= out[rid][0]:
            out[rid] = (_when(ann), one)
    return out, len(export), skipped


def merge(committed: list, project: list | None) -> Merged:
    """Training rows from the committed export and (optionally) a project export; see the module's rules."""
    base, n_base, skipped_base = _annotated(committed, "committed")
    live, n_live, skipped = _annotated(project if project is not None else [], "project")
    chosen = dict(base)
    from_project = 0
    for rid, (when, task) in live.items():
        if rid not in chosen or when >= chosen[rid][0]:
            chosen[rid] = (when, task)
            from_project += 1
    rep = validate_export([t for _, t in chosen.values()])
    if not rep.ok:
        raise InvalidExport(rep)
    rows = sorted(({"id": rid, "text": rep.texts[rid], "release_type": a.release_type, "split": split_of(rid),
                    "quotes": [{f: getattr(q, f) for f in QUOTE_FIELDS} for q in a.quotes]}
                   for rid, a in rep.releases.items()), key=lambda r: r["id"])
    counts = {"tasks": n_live if project is not None else n_base, "annotated": len(live),
              "skipped_unannotated": skipped, "committed_tasks": n_base, "committed_unannotated": skipped_base,
              "from_project": from_project, "releases": len(rows)}
    return Merged(rows, counts)


def _quote_key(q: dict) -> tuple:
    return tuple(q[f] for f in ("start", "end", "speaker", "mention_start", "mention_end"))


def label_diff(before: list[dict] | None, after: list[dict]) -> dict:
    """What changed between the champion's training rows and these: releases added and removed, release
    types changed, releases whose quotes (span, speaker or speaker mention) changed. Counts and the ids."""
    old = {r["id"]: r for r in before or []}
    new = {r["id"]: r for r in after}
    added = sorted(set(new) - set(old))
    removed = sorted(set(old) - set(new))
    both = sorted(set(new) & set(old))
    labels = [{"id": i, "before": old[i]["release_type"], "after": new[i]["release_type"]}
              for i in both if old[i]["release_type"] != new[i]["release_type"]]
    quotes = []
    for i in both:
        a = {_quote_key(q) for q in old[i]["quotes"]}
        b = {_quote_key(q) for q in new[i]["quotes"]}
        if a != b:
            quotes.append({"id": i, "quotes_before": len(a), "quotes_after": len(b),
                           "removed": len(a - b), "added": len(b - a)})
    return {"champion_rows": len(old) if before is not None else None, "rows": len(new),
            "counts": {"releases_added": len(added), "releases_removed": len(removed),
                       "labels_changed": len(labels), "quotes_changed": len(quotes)},
            "releases_added": added, "releases_removed": removed, "labels_changed": labels, "quotes_changed": quotes}
