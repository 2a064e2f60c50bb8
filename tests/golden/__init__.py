"""The golden run: the shipped pipeline (``kzclassify.Analyzer`` over ``models/``) on the annotated releases.

``tests/golden/golden.json`` keeps, for the committed annotations (``labeling/annotations/export.json``, read
by ``training.data.rows_from_export``: the ground truth where present), the figures of the run against the
annotations, the sha256 of the whole output and one short digest per release. ``tests/test_golden.py`` checks
the figures against floors and the digest against a fresh run, so any change to the output is deliberate and
shows in review. After a deliberate change, regenerate and commit the file with a message that explains it:

    python -m tests.golden --update      # rewrite tests/golden/golden.json from a fresh run
    python -m tests.golden               # print the figures and which releases differ from the stored file

The digest of an analysis is the sha256 of its ``to_dict()`` as canonical JSON (sorted keys, no spaces,
floats rounded to 6 decimals, so a last-bit difference between machines does not count as a change).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden.json"
DECIMALS = 6
SHORT = 16  # hex digits of a release's digest kept in golden.json (enough to tell a change)


def _rounded(x):
    if isinstance(x, float):
        r = round(x, DECIMALS)
        return 0.0 if r == 0 else r  # -0.0 and 0.0 are one value
    if isinstance(x, dict):
        return {str(k): _rounded(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_rounded(v) for v in x]
    return x


def canonical(obj) -> bytes:
    """Canonical JSON of an analysis' ``to_dict()``: sorted keys, compact, floats rounded to 6 decimals."""
    return json.dumps(_rounded(obj), ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      allow_nan=False).encode("utf-8")


def annotated_rows() -> list[dict]:
    """The annotated releases as training reads them (ground truth where present), in release-id order."""
    from labeling.io import load_json
    from paths import EXPORT
    from training.data import rows_from_export
    return rows_from_export(load_json(EXPORT))


def run(rows: list[dict], model_dir=None) -> list[dict]:
    """``Analyzer(models/).analyze(text).to_dict()`` of every row, in the rows' order."""
    import kzclassify
    from paths import MODELS
    analyzer = kzclassify.Analyzer(MODELS if model_dir is None else model_dir)
    return [analyzer.analyze(r["text"]).to_dict() for r in rows]


def figures(rows: list[dict], outputs: list[dict]) -> dict:
    """The run against the annotations: release-type accuracy, exact-span quote F1, speaker accuracy on
    the quotes whose span matches exactly, end-to-end F1 (span and speaker right), with the counts."""
    from labeling.metrics import SpanCounts
    counts = SpanCounts()
    right_type = 0
    for r, out in zip(rows, outputs):
        right_type += out["release_type"]["label"] == r["release_type"]
        gold = [(q["start"], q["end"], q["speaker"]) for q in r["quotes"]]
        pred = [(q["start"], q["end"], q["speaker"]) for q in out["quotes"]]
        counts.add(r["text"], gold, pred)
    s = counts.summary()
    return {
        "releases": len(rows), "release_type_right": right_type, "release_type_accuracy": right_type / len(rows),
        "gold_quotes": counts.gold, "pred_quotes": counts.pred, "exact_spans": counts.exact,
        "exact_spans_right_speaker": counts.exact_speaker,
        "quote_exact_f1": s["exact_f1"], "speaker_accuracy_exact": s["speaker_acc_exact"], "e2e_f1": s["e2e_f1"],
    }


def digests(rows: list[dict], outputs: list[dict]) -> tuple[str, dict[str, str]]:
    """The sha256 of the whole output (release ids and analyses in id order) and a short digest per release."""
    whole = hashlib.sha256()
    per = {}
    for r, out in zip(rows, outputs):
        blob = canonical(out)
        whole.update(r["id"].encode("ascii") + b"\t" + blob + b"\n")
        per[r["id"]] = hashlib.sha256(blob).hexdigest()[:SHORT]
    return whole.hexdigest(), per


def golden_run(model_dir=None) -> dict:
    """A fresh run in the layout of golden.json."""
    rows = annotated_rows()
    outputs = run(rows, model_dir)
    whole, per = digests(rows, outputs)
    return {"how": "python -m tests.golden --update (see tests/golden/__init__.py)",
            "figures": figures(rows, outputs), "sha256": whole, "releases": per}


def stored() -> dict:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


def changed(old: dict, new: dict) -> dict[str, list[str]]:
    """Release ids whose output changed, appeared or disappeared between two runs."""
    a, b = old["releases"], new["releases"]
    return {"changed": sorted(k for k in a.keys() & b.keys() if a[k] != b[k]),
            "new": sorted(b.keys() - a.keys()), "gone": sorted(a.keys() - b.keys())}


def write(run_: dict) -> None:
    GOLDEN.write_text(json.dumps(run_, ensure_ascii=False, indent=1, sort_keys=False) + "\n", encoding="utf-8")
