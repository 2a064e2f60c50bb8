"""What the speaker figures rest on: ``python -m training.gazetteer_ablation`` prints the cross-validated
speaker accuracy and end-to-end F1 with the name word lists grown inside each fold (what ``python -m training
quotes`` reports), with the lexicon's lists as shipped, and with none, and the holdout figure."""
from __future__ import annotations

import json

from . import quotes as tq
from .gazetteer import GROWN, fold_lists


def ablation(folds: int = 5) -> dict[str, dict]:
    """Cross-validated speaker figures by how the name word lists are made: grown inside each fold from its
    training releases (what training reports), the lexicon's lists as they are (grown once from the train and
    validation releases, which CV also scores), and none; with the holdout (lists and ranker from
    train+validation, scored on the test split)."""
    from .data import DEFAULT_EXPORT, all_rows, build_dataset

    rows = all_rows(build_dataset(DEFAULT_EXPORT))
    out = {}
    for name, lists_fn in (("lists grown in each fold", fold_lists), ("the lexicon's lists", lambda rs: None),
                           ("no grown lists", lambda rs: {k: [] for k in GROWN})):
        c = tq.cross_validate(rows, folds, lists_fn=lists_fn)["ranker"]
        out[name] = {g: {k: c[g].summary()[k] for k in ("gold_quotes", "speaker_acc_exact", "e2e_f1")}
                     for g in ("all", "family.role_to_person", "family.name", "family.letter_digest", "untouched")}
    held = tq.holdout(rows)["all"].summary()
    out["holdout (train+validation → test split)"] = {
        "all": {k: held[k] for k in ("gold_quotes", "speaker_acc_exact", "e2e_f1")}}
    return out


if __name__ == "__main__":
    print(json.dumps(ablation(), indent=1))
