"""Re-measure the previous ranker row (``quote_speaker_before.json``) with that commit's own code.

    git archive 937f514 kzclassify | tar -x -C /tmp/before && mv /tmp/before/kzclassify /tmp/before/kzold
    PYTHONPATH=$PWD python -m training.baselines.measure_before /tmp/before 937f514...

The old package is imported under another name (``kzold``) with its own lexicon; the evaluation,
folds and error-family tagger are today's ``training.quotes.cross_validate``.
"""
from __future__ import annotations

import json
import sys
from functools import lru_cache
from pathlib import Path

OUT = Path(__file__).resolve().parent / "quote_speaker_before.json"


def main(old_root: str, commit: str) -> None:
    sys.path.insert(0, old_root)
    import kzold._attribution as old  # noqa: the previous kzclassify, renamed
    import kzold._speakers as old_speakers

    @lru_cache(maxsize=1)
    def old_lexicon():
        return json.loads((Path(old_root) / "kzold" / "data" / "lexicon.json").read_text(encoding="utf-8"))

    old_speakers.lexicon = old.lexicon = old_lexicon
    from training import quotes as tq
    from training.data import DEFAULT_EXPORT, all_rows, build_dataset

    rows = all_rows(build_dataset(DEFAULT_EXPORT))
    counts = tq.cross_validate(rows, 5, attribute_fn=old.attribute,
                               training_fn=lambda rs: tq.training_examples(rs, old.candidates_for))
    table = {k: v.summary() for k, v in counts["ranker"].items()}
    OUT.write_text(json.dumps({"commit": commit, "note": (
        "the previous ranker (19 mention features, rule resolution), cross-validated with its own code and "
        "lexicon at this commit by today's evaluation and family tagger (training/baselines/measure_before.py)"),
        "table": table}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"speaker acc {table['all']['speaker_acc_exact']:.3f}, e2e F1 {table['all']['e2e_f1']:.3f} → {OUT}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
