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
