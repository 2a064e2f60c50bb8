"""sklearn ↔ ONNX Runtime parity on every corpus release (train/serve parity)."""
import numpy as np
import pytest

from kzclassify._features import type_input

pytestmark = pytest.mark.slow


def test_release_type_parity_on_the_whole_corpus(rows, corpus_texts, tmp_path):
    from training.export import check_parity, onnx_from_sklearn
    from training.release_type import candidates
    X = [type_input(r["text"]) for r in rows]
    y = [r["release_type"] for r in rows]
    for name in ("tfidf_word_char_svc", "tfidf_word_lr"):
        est = candidates()[name]().fit(X, y)
        path = tmp_path / f"{name}.onnx"
        path.write_bytes(onnx_from_sklearn(est, list(est.classes_)).SerializeToString())
        p = check_parity(est, path, corpus_texts)
        assert p["n"] == 393
        assert p["label_mismatches"] == 0, (name, p)
        assert p["max_abs_diff"] <= 1e-4, (name, p)


def test_quote_ranker_parity_on_the_whole_corpus(rows, corpus_texts, tmp_path):
    from training.export import quote_onnx, quote_parity
    from training.quotes import ranker, training_examples
    X, y, _ = training_examples(rows)
    est = ranker().fit(X, y)
    path = tmp_path / "q.onnx"
    path.write_bytes(quote_onnx(est).SerializeToString())
    p = quote_parity(est, path, corpus_texts)
    assert p["n"] > 1000 and p["label_mismatches"] == 0 and p["max_abs_diff"] <= 1e-4


def test_shipped_release_type_model_reproduces_its_manifest(corpus_texts):
    """The committed ONNX model predicts the corpus as its manifest's run measured (labels in config order)."""
    import kzclassify
    from labeling.schema import schema
    info = kzclassify.info()["models"]["release_type"]
    assert sorted(info["labels"]) == sorted(schema().types)
    preds = kzclassify.classify_many(corpus_texts)
    assert all(p.label in schema().types for p in preds)
    assert np.allclose([sum(p.scores.values()) for p in preds], 1.0, atol=1e-4)


def _type_records(rows):
    """The shipped release-type model's raw top-label probability on the annotated releases, and whether right."""
    from kzclassify import Analyzer
    m = Analyzer().load()._model("release_type")
    x = np.array([type_input(r["text"]) for r in rows], dtype=object).reshape(-1, 1)
    proba = m.session.run(None, {"text": x})[1]
    labels = np.array(m.labels)
    return proba.max(1).astype(float), (labels[proba.argmax(1)] == np.array([r["release_type"] for r in rows])).astype(float)


def _quote_records(rows):
    """The shipped ranker's raw quote scores and paths on the annotated releases, and whether the speaker is right."""
    from kzclassify import Analyzer
    from kzclassify._attribution import attribute
    a = Analyzer().load()
    raw, path, ok = [], [], []
    for r in rows:
        gold = {(q["start"], q["end"]): q["speaker"] for q in r["quotes"]}
        for q in attribute(r["text"], a._score_candidates):
            if (q.start, q.end) in gold and q.resolved_by != "none":
                raw.append(q.score)
                path.append(q.resolved_by)
                ok.append(float(q.speaker == gold[(q.start, q.end)]))
    return np.array(raw), np.array(path, dtype=object), np.array(ok)


@pytest.mark.parametrize("method", ["isotonic", "platt", "beta"])
def test_calibrator_parity_on_the_whole_corpus(rows, method):
    """The training code's calibrators (sklearn) and kzclassify's numpy application of their JSON give the same
    probabilities on every corpus release's raw type score and every quote's raw speaker score."""
    from training.calibrate import Fitted, PathCalibrator, parity
    x, y = _type_records(rows)
    fitted = Fitted(method, x, y)
    p = parity(fitted, {"calibrator": fitted.data}, x)
    assert p["n"] == 393 and p["max_abs_diff"] <= 1e-9, p
    raw, path, ok = _quote_records(rows)
    for by_path in (False, True):
        cal = PathCalibrator(method, by_path, raw, ok, path)
        p = parity(cal, cal.data, raw, path)
        assert p["n"] > 500 and p["max_abs_diff"] <= 1e-9, p


def test_shipped_calibration_reproduces_its_training_run():
    """The export checked the shipped calibration on every corpus release: sklearn model + sklearn calibrator
    (training) vs ONNX model + numpy calibrator (kzclassify), scores and review flags."""
    import json

    from paths import MODELS
    for name in ("release_type", "quote_speaker"):
        manifest = json.loads((MODELS / name / "manifest.json").read_text(encoding="utf-8"))
        cal = json.loads((MODELS / name / "calibration.json").read_text(encoding="utf-8"))
        assert manifest["parity"]["calibrated_max_abs_diff"] <= 1e-4
        assert manifest["parity"]["review_flag_mismatches"] == 0
        assert cal["parity"]["n"] >= (393 if name == "release_type" else 500)
        assert cal["parity"]["max_abs_diff"] <= 1e-9


def test_a_beta_calibrator_is_monotone_and_numpy_gives_sklearns_numbers():
    """Beta calibration with a negative weight maps a lower raw score to a higher probability (an unresolved
    role at 0.1 was scored above a resolved name at 0.5): the fit drops that weight (Kull et al. 2017)."""
    import numpy as np
    from kzclassify._calibration import apply
    from training.calibrate import Fitted
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(0.02, 0.2, 300), rng.uniform(0.2, 0.5, 300), rng.uniform(0.5, 1.0, 600)])
    p = np.where(x < 0.2, 0.7, np.where(x < 0.5, 0.3, 0.95))  # right more often at the bottom than in the middle
    y = (rng.uniform(size=len(x)) < p).astype(float)
    f = Fitted("beta", x, y)
    grid = np.linspace(0.001, 0.999, 500)
    out = apply(f.data, grid)
    assert (np.diff(out) >= -1e-12).all()
    assert np.abs(out - f.predict(grid)).max() < 1e-9
