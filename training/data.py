"""Stage 1: a validated Label Studio export → a Hugging Face ``DatasetDict``.

Split (fixed, documented): a release goes to a split by its id alone,
``int(release_id[:8], 16) % 20``: 0–13 → train, 14–16 → validation,
17–19 → test. The id is the sha1 of the whitespace-folded text, so the same
text always lands in the same split and every release is in exactly one.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from labeling.io import load_json
from labeling.validate import Report, validate_export
from paths import EXPORT as DEFAULT_EXPORT

# the annotated fields of a quote, named as in kzclassify.Quote
QUOTE_FIELDS = ("start", "end", "text", "speaker_mention", "mention_start", "mention_end", "speaker")
SPLITS = ("train", "validation", "test")


def split_of(release_id: str) -> str:
    b = int(release_id[:8], 16) % 20
    return "train" if b < 14 else "validation" if b < 17 else "test"


class InvalidExport(ValueError):
    def __init__(self, report: Report):
        lines = [str(p) for p in report.problems[:20]]
        more = len(report.problems) - len(lines)
        super().__init__(f"export has {len(report.problems)} problems:\n" + "\n".join(lines)
                         + (f"\n... and {more} more" if more > 0 else ""))
        self.report = report


def rows_from_export(export) -> list[dict]:
    """Release-level rows from a valid export; InvalidExport lists the problems otherwise."""
    rep = validate_export(export)
    if not rep.ok:
        raise InvalidExport(rep)
    rows = []
    for rid, ann in rep.releases.items():
        rows.append({
            "id": rid,
            "text": rep.texts[rid],
            "release_type": ann.release_type,
            "split": split_of(rid),
            "quotes": [{f: getattr(q, f) for f in QUOTE_FIELDS} for q in ann.quotes],
        })
    rows.sort(key=lambda r: r["id"])
    return rows


def digest(rows: list[dict]) -> str:
    """sha256 of the canonical JSON of the rows (the training-data digest)."""
    blob = json.dumps(rows, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()


def all_rows(ds) -> list[dict]:
    """Every row of a DatasetDict, in release-id order (the order CV folds are drawn in)."""
    return sorted((r for s in SPLITS for r in ds[s]), key=lambda r: r["id"])


def per_type_slice(rows: list[dict], limit: int | None) -> list[dict]:
    """At most ``limit`` rows of each release type (a small slice for tests); all rows if None."""
    if not limit:
        return rows
    kept: dict[str, int] = {}
    out = []
    for r in rows:
        if kept.get(r["release_type"], 0) < limit:
            kept[r["release_type"]] = kept.get(r["release_type"], 0) + 1
            out.append(r)
    return out


def build_dataset(export_path: str | Path = DEFAULT_EXPORT):
    """Load, validate and convert an export into a ``DatasetDict`` with train/validation/test."""
    import datasets

    rows = rows_from_export(load_json(export_path))
    features = datasets.Features({
        "id": datasets.Value("string"),
        "text": datasets.Value("string"),
        "release_type": datasets.Value("string"),
        "split": datasets.Value("string"),
        "quotes": datasets.List({
            "start": datasets.Value("int32"), "end": datasets.Value("int32"),
            "text": datasets.Value("string"), "speaker_mention": datasets.Value("string"),
            "mention_start": datasets.Value("int32"), "mention_end": datasets.Value("int32"),
            "speaker": datasets.Value("string"),
        }),
    })
    return datasets.DatasetDict({
        s: datasets.Dataset.from_list([r for r in rows if r["split"] == s], features=features)
        for s in SPLITS
    })
