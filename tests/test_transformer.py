"""Transformer path with a tiny, locally built, randomly initialised model (no hub download).

This checks the plumbing (fine-tune → MLflow → ONNX → parity → served by kzclassify);
the tiny model is not a quality claim.
"""
import pytest

pytestmark = pytest.mark.slow
torch = pytest.importorskip("torch")
pytest.importorskip("transformers")


def test_tiny_transformer_train_export_parity_and_serve(tmp_path, corpus_texts, monkeypatch):
    from training import transformer

    base = transformer.make_tiny_model(tmp_path / "tiny", corpus_texts)
    size = sum(f.stat().st_size for f in base.iterdir())
    assert size < 2_000_000, size
    out = tmp_path / "models" / "release_type"
    r = transformer.train(base, store=tmp_path / "mlruns", folds=2, epochs=1, batch_size=8, max_length=64,
                          limit=6, out=out)
    assert r.version == "1" and 0 <= r.cv["accuracy"] <= 1
    assert (out / "tokenizer.json").exists() and (out / "manifest.json").exists()

    # parity: the fitted PyTorch model vs the exported ONNX served by kzclassify
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    import mlflow
    local = mlflow.artifacts.download_artifacts(run_id=r.run_id, artifact_path="hf_model",
                                                dst_path=str(tmp_path / "dl"))
    tok = AutoTokenizer.from_pretrained(local)
    model = AutoModelForSequenceClassification.from_pretrained(local).eval()
    p = transformer.parity(tok, model, out, corpus_texts[:60], 64)
    assert p["label_mismatches"] == 0 and p["max_abs_diff"] <= 1e-4, p

    import kzclassify
    from labeling.schema import schema
    rt = kzclassify.Analyzer(tmp_path / "models").classify(corpus_texts[0])
    assert rt.label in schema().types and abs(sum(rt.scores.values()) - 1) < 1e-5
