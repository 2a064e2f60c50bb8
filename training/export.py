"""Stage 4: sklearn → ONNX, parity check, and the shipped model folder with its manifest."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np

from kzclassify._features import type_input
from kzclassify._calibration import apply, calibrate_quote_score
from kzclassify._model import MANIFEST_FORMAT, file_sha256
from paths import CORPUS, MODELS

TOKENEXP = r"[\p{L}\p{N}_]{2,}"
CALIBRATION_FILE = "calibration.json"


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


def check_parity(est, onnx_path: Path, texts: list[str], calibration: dict | None = None) -> dict:
    """Run sklearn and ONNX Runtime on the same texts; labels and probabilities compared (and, given the
    model's calibration, the calibrated probabilities of the top label)."""
    import onnxruntime as ort
    X = [type_input(t) for t in texts]
    sk = est.predict_proba(X)
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    out = sess.run(None, {"text": np.array(X, dtype=object).reshape(-1, 1)})
    on = out[1]
    diff = float(np.abs(sk - on).max()) if len(X) else 0.0
    mism = int((sk.argmax(1) != on.argmax(1)).sum())
    return {"n": len(X), "max_abs_diff": diff, "label_mismatches": mism,
            **_calibrated_diff(calibration, lambda cal: apply(cal["calibrator"], sk.max(1)),
                               lambda cal: apply(cal["calibrator"], on.max(1)))}


def _calibrated_diff(calibration: dict | None, sk_fn, onnx_fn) -> dict:
    """The calibrated scores' largest difference between the sklearn model's and the ONNX model's raw scores
    (or the recorded training-time parity of the calibrator itself, sklearn vs numpy, if larger), and the
    items whose review flag (score below the default threshold) differs between the two."""
    if not calibration:
        return {}
    sk, on = np.atleast_1d(sk_fn(calibration)), np.atleast_1d(onnx_fn(calibration))
    if not len(sk):
        return {}
    t = calibration["review"]["threshold"]
    return {"calibrated_max_abs_diff": max(float(np.abs(sk - on).max()), calibration["parity"]["max_abs_diff"]),
            "review_flag_mismatches": int(((sk < t) != (on < t)).sum())}


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
                     "test_accuracy", "test_macro_f1", "cv_ece", "cal_ece"),
    "quote_speaker": ("cv_quote_f1", "cv_speaker_acc", "cv_e2e_f1", "raw_ece", "cal_ece"),
}


def model_version_of(sha256: str, generation: int) -> str:
    """A model folder's version: its generation (ordered) and its ONNX file's content (``g3-d0bfe99aa599``)."""
    return f"g{generation}-{sha256[:12]}"


def corpus_texts(corpus: Path | None = None) -> list[str]:
    from kzclassify.corpus import read_corpus
    return [r.text for r in read_corpus(corpus or CORPUS)]


def write_model_dir(out: Path, onnx_bytes: bytes, manifest: dict, generation: int = 0,
                    calibration: dict | None = None) -> dict:
    """Write model.onnx, calibration.json (when given) and manifest.json (with the files' sha256 and the
    version derived from the model's) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "model.onnx").write_bytes(onnx_bytes)
    sha = file_sha256(out / "model.onnx")
    cal_path = out / CALIBRATION_FILE
    if calibration is not None:
        cal_path.write_text(json.dumps(calibration, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        manifest = {**manifest, "calibration": {"file": CALIBRATION_FILE, "sha256": file_sha256(cal_path)},
                    "review": review_summary(calibration)}
    elif cal_path.exists():
        cal_path.unlink()  # a calibration of another model must not stay beside this one
    manifest = {"format_version": MANIFEST_FORMAT, "file": "model.onnx", **manifest,
                "model_version": model_version_of(sha, generation), "model_generation": generation,
                "sha256": sha, "library_versions": _versions(),
                "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return manifest


def run_calibration(run_id: str) -> dict | None:
    """The calibration.json a training run logged (None for a run from before calibration)."""
    import mlflow
    try:
        path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=f"evaluation/{CALIBRATION_FILE}")
    except Exception:  # noqa: BLE001 - MLflow raises several types for a missing artifact
        return None
    return json.loads(Path(path).read_text(encoding="utf-8"))


def card_figures(run_id: str, out: Path) -> list[str]:
    """Copy a run's reliability diagram and risk–coverage plot beside its model card."""
    import mlflow
    done = []
    for name, dest in (("reliability_calibrated.png", "reliability.png"), ("risk_coverage.png", "risk_coverage.png")):
        try:
            src = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=f"evaluation/{name}")
        except Exception:  # noqa: BLE001 - a run from before calibration has none
            continue
        (out / dest).write_bytes(Path(src).read_bytes())
        done.append(dest)
    return done


def review_summary(calibration: dict) -> dict:
    """What the manifest says about the review flag: the default target, its threshold, the coverage and
    accuracy CV gave (in-sample table and held-out check), the calibration method and its CV ECE."""
    r = calibration["review"]
    return {"target": r["target"], "threshold": r["threshold"], "coverage": r["coverage"], "accuracy": r["accuracy"],
            "held_out": r["held_out"], "method": calibration["method"], "cv_ece": calibration["cv"]["ece"],
            "cv_raw_ece": calibration["cv"]["raw_ece"]}


def log_model_dir(slot: str, onx, parity_fn, fields: dict, generation: int | None, store, card_fn) -> dict:
    """Build the shipped folder of ``slot`` once (model.onnx, manifest.json, CARD.md) and log it as the
    active run's ``model_dir/`` artifact; the manifest. Parity with sklearn is measured on a temporary copy
    and recorded (metrics ``parity_*``, the manifest's ``parity``); a version whose parity fails is
    registered but never promoted or restored (``registry``). The run's calibration (``evaluation/calibration.json``,
    logged before) goes into the folder with its sha256 in the manifest, and ``parity_fn(path, calibration)``
    checks the calibrated scores too; the reliability and risk–coverage plots go beside the card."""
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
        calibration = run_calibration(mlflow.active_run().info.run_id)
        parity = parity_fn(folder / "model.onnx", calibration)
        mlflow.log_metrics({"parity_max_abs_diff": parity["max_abs_diff"],
                            "parity_label_mismatches": parity["label_mismatches"]})
        manifest = write_model_dir(folder, data, {"name": slot, **fields, "parity": parity}, generation, calibration)
        (folder / "CARD.md").write_text(card_fn(), encoding="utf-8")
        card_figures(mlflow.active_run().info.run_id, folder)
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


def quote_parity(est, onnx_path: Path, texts: list[str], calibration: dict | None = None) -> dict:
    """Ranker probabilities, sklearn vs ONNX Runtime, on the candidates of every text (and, given the
    calibration, the calibrated speaker score of every quote of every text)."""
    import onnxruntime as ort

    from kzclassify._attribution import attribute, candidates_for
    from kzclassify._quotes import find_quotes

    feats = [c.features for t in texts for cs in candidates_for(t, find_quotes(t)) for c in cs]
    x = np.array(feats, dtype=np.float32)
    sk = est.predict_proba(x)
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    on = sess.run(None, {"features": x})[1]

    def calibrated(scorer):
        def scores(cal):
            return np.array([calibrate_quote_score(cal, q.resolved_by, q.score) for t in texts
                             for q in attribute(t, scorer) if q.resolved_by != "none"])
        return scores
    return {"n": len(x), "max_abs_diff": float(np.abs(sk - on).max()) if len(x) else 0.0,
            "label_mismatches": int((sk.argmax(1) != on.argmax(1)).sum()),
            **_calibrated_diff(calibration, calibrated(lambda f: est.predict_proba(f)[:, 1]),
                               calibrated(lambda f: sess.run(None, {"features": f})[1][:, 1]))}
