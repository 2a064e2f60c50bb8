"""Honest figures: classification metrics score the labels present; the name word lists a figure rests on
are grown without the releases it scores (per CV fold, never from the test split)."""
import pytest

from training import evaluate
from training.data import split_of
from training.gazetteer import fold_lists, grow, word_lists


def test_an_absent_class_is_not_an_f1_of_zero():
    y_true = ["meeting", "meeting", "visit", "event"]
    y_pred = ["meeting", "award", "visit", "visit"]
    m = evaluate.classification_metrics(y_true, y_pred, ["meeting", "visit", "event", "award"])
    assert m["absent"] == ["award"] and m["labels_scored"] == ["meeting", "visit", "event"]
    # meeting P 1 R .5 → 2/3; visit P .5 R 1 → 2/3; event 0: the mean over the three present classes
    assert m["macro_f1"] == pytest.approx((2 / 3 + 2 / 3 + 0) / 3)
    assert m["per_class"]["award"] == {"precision": None, "recall": None, "f1": None, "support": 0, "predicted": 1}
    assert m["per_class"]["event"]["f1"] == 0.0 and m["accuracy"] == 0.5


def test_the_grown_lists_never_read_the_test_split(rows):
    test_ids = {r["id"] for r in rows if split_of(r["id"]) == "test"}
    assert test_ids
    lists = fold_lists(rows)
    assert lists == fold_lists([r for r in rows if r["id"] not in test_ids])
    # "Румен" is written only in a test-split release: growing from every text would take it
    everything = grow([r["text"] for r in rows], [q["speaker"] for r in rows for q in r["quotes"]])
    assert "Румен" in everything["first_names"] and "Румен" not in lists["first_names"]


def test_word_lists_are_what_the_people_stage_reads_inside_the_block_only(rows):
    import kzclassify
    from paths import MODELS
    text = next(r["text"] for r in rows if r["id"] == "5f4e4be770b2")
    analyzer = kzclassify.Analyzer(MODELS)

    def people():
        return {p.name for p in analyzer.analyze(text).people}

    before = people()
    lists = fold_lists(rows)
    others = [w for w in lists["first_names"] if w != "Румен"]
    with word_lists({**lists, "first_names": others}):
        without = people()
    with word_lists({**lists, "first_names": others + ["Румен"]}):
        with_it = people()
    assert "Румен Радев" in with_it and "Румен Радев" not in without
    assert people() == before  # the lexicon's lists again after the block


@pytest.mark.slow
def test_cross_validation_grows_each_folds_lists_from_its_training_releases_only(rows):
    from training import quotes as tq
    small = rows[:30]
    seen = []

    def lists_fn(train_rows):
        seen.append({r["id"] for r in train_rows})
        return fold_lists(train_rows)

    out = tq.cross_validate(small, 3, lists_fn=lists_fn)
    ids = {r["id"] for r in small}
    assert len(seen) == 3
    held_out = [ids - s for s in seen]  # the releases each fold scores
    assert all(h for h in held_out) and sorted(i for h in held_out for i in h) == sorted(ids)
    assert out["ranker"]["all"].gold == sum(len(r["quotes"]) for r in small)
