"""Stage 4: sklearn → ONNX, parity check, and the shipped model folder with its manifest."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np

from kzclassify._features import type_input
from kzclassify._model import MANIFEST_FORMAT, file_sha256
from paths import CORPUS, MODELS

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


# the run metrics a manifest carries, by model folder
MANIFEST_METRICS = {
    "release_type": ("cv_accuracy", "cv_accuracy_std", "cv_macro_f1", "cv_macro_f1_std", "cv_min_class_f1",
                     "test_accuracy", "test_macro_f1", "cv_ece"),
    "quote_speaker": ("cv_quote_f1", "cv_speaker_acc", "cv_e2e_f1"),
}


def model_version_of(sha256: str, generation: int) -> str:
    """A model folder's version: its generation (ordered) and its ONNX file's content (``g3-d0bfe99aa599``)."""
    return f"g{generation}-{sha256[:12]}"


def corpus_texts(corpus: Path | None = None) -> list[str]:
    from kzclassify.corpus import read_corpus
    return [r.text for r in read_corpus(corpus or CORPUS)]


def write_model_dir(out: Path, onnx_bytes: bytes, manifest: dict, generation: int = 0) -> dict:
    """Write model.onnx and manifest.json (with the file's sha256 and the version derived from it) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "model.onnx").write_bytes(onnx_bytes)
    sha = file_sha256(out / "model.onnx")
    manifest = {"format_version": MANIFEST_FORMAT, "file": "model.onnx", **manifest,
                "model_version": model_version_of(sha, generation), "model_generation": generation,
                "sha256": sha, "library_versions": _versions(),
                "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return manifest


def log_model_dir(slot: str, onx, parity_fn, fields: dict, generation: int | None, store, card_fn) -> dict:
    """Build the shipped folder of ``slot`` once (model.onnx, manifest.json, CARD.md) and log it as the
    active run's ``model_dir/`` artifact; the manifest. Parity with sklearn is measured on a temporary copy
    and recorded (metrics ``parity_*``, the manifest's ``parity``); a version whose parity fails is
    registered but never promoted or restored (``registry``)."""
    import tempfile

    import mlflow

    from .registry import next_generation
    if generation is None:
        generation = next_generation(store)
    data = onx.SerializeToString()
    with tempfile.TemporaryDirectory() as td:
        folder = Path(td) / slot
        folder.mkdir()
        (folder / "model.onnx").write_bytes(data)
        parity = parity_fn(folder / "model.onnx")
        mlflow.log_metrics({"parity_max_abs_diff": parity["max_abs_diff"],
                            "parity_label_mismatches": parity["label_mismatches"]})
        manifest = write_model_dir(folder, data, {"name": slot, **fields, "parity": parity}, generation)
        (folder / "CARD.md").write_text(card_fn(), encoding="utf-8")
        mlflow.log_artifacts(str(folder), artifact_path="model_dir")
    return manifest


def export_release_type(ref: str = "champion", out: Path | None = None, store=None, corpus: Path | None = None) -> dict:
    """Restore a registered release-type version (number) or alias into ``models/release_type``: the ONNX
    file, manifest and card its run logged, byte for byte (never converted again)."""
    from .registry import restore_slot
    return restore_slot("release_type", ref, store, out or MODELS / "release_type")


def export_quotes(ref: str = "champion", out: Path | None = None, store=None, corpus: Path | None = None) -> dict:
    """Restore a registered quote-speaker ranker version or alias into ``models/quote_speaker`` (byte for byte)."""
    from .registry import restore_slot
    return restore_slot("quote_speaker", ref, store, out or MODELS / "quote_speaker")


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
