"""Stage 4: sklearn → ONNX, parity check, and the shipped model folder with its manifest."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np

from kzclassify._features import type_input
from kzclassify._model import MANIFEST_FORMAT, file_sha256
from paths import CORPUS, MODELS

from . import tracking
from .trusted import load_sklearn

TOKENEXP = r"[\p{L}\p{N}_]{2,}"


def _vectorizers(est):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion, Pipeline
    found = []

    def walk(e):
        if isinstance(e, TfidfVectorizer):
            found.append(e)
        elif isinstance(e, Pipeline):
            for _, s in e.steps:
                walk(s)
        elif isinstance(e, FeatureUnion):
            for _, s in e.transformer_list:
                walk(s)
    walk(est)
    return found


def tokenexp(token_pattern: str) -> str:
    """A vectorizer's Python token pattern for the ONNX tokenizer: ``\\w`` spelled as Unicode classes."""
    return token_pattern.replace(r"\w", r"[\p{L}\p{N}_]")


def add_metadata(onx, meta: dict):
    """Store key/value strings in the ONNX model's metadata (labels travel with the file)."""
    for k, v in meta.items():
        p = onx.metadata_props.add()
        p.key, p.value = k, str(v)
    return onx


def onnx_from_sklearn(est, labels: list[str], metadata: dict | None = None):
    """Convert a fitted text pipeline (input: one string per row) to ONNX.

    Word vectorizers get ``tokenexp`` so Kazakh letters are tokens (the default
    ONNX tokenizer is ASCII-only); probabilities come out as a plain tensor.
    """
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import StringTensorType

    options = {}
    for v in _vectorizers(est):
        if v.analyzer == "word":
            options[id(v)] = {"tokenexp": tokenexp(v.token_pattern)}
    final = est.steps[-1][1] if hasattr(est, "steps") else est
    options[id(final)] = {"zipmap": False}
    onx = convert_sklearn(est, initial_types=[("text", StringTensorType([None, 1]))], options=options,
                          target_opset={"": 17, "ai.onnx.ml": 3})
    return add_metadata(onx, {"labels": json.dumps(list(labels), ensure_ascii=False),
                              "input": "kzclassify._features.type_input", **(metadata or {})})


def check_parity(est, onnx_path: Path, texts: list[str]) -> dict:
    """Run sklearn and ONNX Runtime on the same texts; labels and probabilities compared."""
    import onnxruntime as ort
    X = [type_input(t) for t in texts]
    sk = est.predict_proba(X)
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    out = sess.run(None, {"text": np.array(X, dtype=object).reshape(-1, 1)})
    on = out[1]
    diff = float(np.abs(sk - on).max()) if len(X) else 0.0
    mism = int((sk.argmax(1) != on.argmax(1)).sum())
    return {"n": len(X), "max_abs_diff": diff, "label_mismatches": mism}


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version
    out = {}
    for pkg in ("scikit-learn", "skl2onnx", "onnx", "onnxruntime", "torch", "transformers", "kzclassify"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def write_model_dir(out: Path, onnx_bytes: bytes, manifest: dict) -> dict:
    """Write model.onnx and manifest.json (with the file's sha256) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "model.onnx").write_bytes(onnx_bytes)
    manifest = {"format_version": MANIFEST_FORMAT, "file": "model.onnx", **manifest,
                "sha256": file_sha256(out / "model.onnx"), "library_versions": _versions(),
                "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return manifest


def export_release_type(ref: str = "champion", out: Path | None = None, store=None, corpus: Path | None = None) -> dict:
    """Export a registered release-type model version (number) or alias to ``models/release_type``.

    The exact registered sklearn model is converted, its parity with ONNX checked
    on every corpus release, and the manifest records run id, metrics and digest.
    """
    import mlflow

    from kzclassify.corpus import read_corpus

    MODEL_NAME = tracking.RELEASE_TYPE_MODEL

    tracking.setup(tracking.RELEASE_TYPE_EXPERIMENT, store)
    client = mlflow.MlflowClient()
    mv = (client.get_model_version(MODEL_NAME, ref) if ref.isdigit()
          else client.get_model_version_by_alias(MODEL_NAME, ref))
    est = load_sklearn(f"models:/{MODEL_NAME}/{mv.version}")  # skops, our trusted types only
    run = client.get_run(mv.run_id)
    labels = [str(c) for c in est.classes_]
    version = f"{MODEL_NAME}/{mv.version}"
    onx = onnx_from_sklearn(est, labels, {"model_version": version, "mlflow_run_id": mv.run_id})
    out = out or MODELS / "release_type"
    texts = [r.text for r in read_corpus(corpus or CORPUS)]
    m = run.data.metrics
    return _checked_write(out, onx, lambda path: check_parity(est, path, texts), {
        "name": "release_type", "kind": "text-classifier", "input": "type_input",
        "labels": labels, "model_version": version, "mlflow_run_id": mv.run_id,
        "training_data_digest": run.data.tags.get("data_digest", ""),
        "chosen": run.data.params.get("chosen", ""),
        "metrics": {k: m[k] for k in ("cv_accuracy", "cv_accuracy_std", "cv_macro_f1", "cv_macro_f1_std",
                                      "cv_min_class_f1", "test_accuracy", "test_macro_f1", "cv_ece") if k in m},
        "cv_repeats": int(run.data.params.get("repeats", 1)),
    })


def _checked_write(out: Path, onx, parity_fn, fields: dict) -> dict:
    """Check parity on a temporary copy first, so a failing model never reaches ``out``."""
    import tempfile
    with tempfile.TemporaryDirectory() as td:
        path = Path(td) / "model.onnx"
        path.write_bytes(onx.SerializeToString())
        parity = parity_fn(path)
    if parity["label_mismatches"] or parity["max_abs_diff"] > 1e-4:
        raise RuntimeError(f"ONNX parity failed on the corpus: {parity}")
    return write_model_dir(out, onx.SerializeToString(), {**fields, "parity": parity})


def quote_onnx(est, metadata: dict | None = None):
    """The speaker-mention ranker as ONNX: input ``features`` float32 [n, len(FEATURES)]."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    from kzclassify._attribution import FEATURES

    onx = convert_sklearn(est, initial_types=[("features", FloatTensorType([None, len(FEATURES)]))],
                          options={id(est): {"zipmap": False}}, target_opset={"": 17, "ai.onnx.ml": 3})
    return add_metadata(onx, {"labels": json.dumps(["other", "speaker"]), "features": json.dumps(list(FEATURES)),
                              **(metadata or {})})


def quote_parity(est, onnx_path: Path, texts: list[str]) -> dict:
    """Ranker probabilities, sklearn vs ONNX Runtime, on the candidates of every text."""
    import onnxruntime as ort

    from kzclassify._attribution import candidates_for
    from kzclassify._quotes import find_quotes

    feats = [c.features for t in texts for cs in candidates_for(t, find_quotes(t)) for c in cs]
    x = np.array(feats, dtype=np.float32)
    sk = est.predict_proba(x)
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    on = sess.run(None, {"features": x})[1]
    return {"n": len(x), "max_abs_diff": float(np.abs(sk - on).max()) if len(x) else 0.0,
            "label_mismatches": int((sk.argmax(1) != on.argmax(1)).sum())}


def export_quotes(ref: str = "champion", out: Path | None = None, store=None, corpus: Path | None = None) -> dict:
    """Export a registered quote-speaker ranker version or alias to ``models/quote_speaker``."""
    import mlflow

    from kzclassify._attribution import FEATURES
    from kzclassify.corpus import read_corpus

    MODEL_NAME = tracking.QUOTES_MODEL

    tracking.setup(tracking.QUOTES_EXPERIMENT, store)
    client = mlflow.MlflowClient()
    mv = (client.get_model_version(MODEL_NAME, ref) if ref.isdigit()
          else client.get_model_version_by_alias(MODEL_NAME, ref))
    est = load_sklearn(f"models:/{MODEL_NAME}/{mv.version}")  # skops, our trusted types only
    run = client.get_run(mv.run_id)
    version = f"{MODEL_NAME}/{mv.version}"
    onx = quote_onnx(est, {"model_version": version, "mlflow_run_id": mv.run_id})
    out = out or MODELS / "quote_speaker"
    m = run.data.metrics
    texts = [r.text for r in read_corpus(corpus or CORPUS)]
    return _checked_write(out, onx, lambda path: quote_parity(est, path, texts), {
        "name": "quote_speaker", "kind": "mention-ranker", "labels": ["other", "speaker"],
        "features": list(FEATURES), "model_version": version, "mlflow_run_id": mv.run_id,
        "training_data_digest": run.data.tags.get("data_digest", ""),
        "metrics": {k: m[k] for k in ("cv_quote_f1", "cv_speaker_acc", "cv_e2e_f1", "untouched_speaker_acc",
                                      "untouched_e2e_f1", "holdout_speaker_acc", "holdout_e2e_f1") if k in m},
    })
