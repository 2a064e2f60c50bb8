"""Shipped models: manifest schema, sha256 and ONNX graph checks, one ONNX Runtime session per model."""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

MANIFEST_FORMAT = 1
MODEL_DIR_ENV = "KZCLASSIFY_MODEL_DIR"

# What each slot of a model folder holds: manifest kinds it accepts, and the ONNX graph they must have
# (input name → element type; the probability output is the second output, one column per label).
KINDS = {
    "text-classifier": {"inputs": {"text": "tensor(string)"}},
    "transformer-classifier": {"inputs": {"input_ids": "tensor(int64)", "attention_mask": "tensor(int64)"}},
    "mention-ranker": {"inputs": {"features": "tensor(float)"}},
}
SLOTS = {
    "release_type": ("text-classifier", "transformer-classifier"),
    "quote_speaker": ("mention-ranker",),
}
_SHA256 = re.compile(r"[0-9a-f]{64}")


class ModelError(RuntimeError):
    """A shipped model is missing, corrupt or incompatible; the message names the file."""


def model_root() -> Path:
    """Where the models are: $KZCLASSIFY_MODEL_DIR, else inside the installed package,
    else the repository's ``models/`` (running from a source checkout)."""
    env = os.environ.get(MODEL_DIR_ENV)
    if env:
        return Path(env)
    pkg = Path(str(resources.files("kzclassify"))) / "models"
    if pkg.is_dir():
        return pkg
    return Path(__file__).resolve().parent.parent / "models"


@dataclass(frozen=True)
class LoadedModel:
    name: str
    manifest: dict
    session: object  # onnxruntime.InferenceSession
    path: Path

    @property
    def labels(self) -> list[str]:
        return self.manifest["labels"]


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _check_schema(manifest: dict, where: Path, slot: str | None) -> None:
    def bad(key: str, expected: str):
        raise ModelError(f"{where}: manifest {key!r} is {manifest.get(key)!r}; expected {expected}")

    for key in ("file", "sha256", "labels", "model_version"):
        if key not in manifest:
            raise ModelError(f"{where}: manifest lacks {key!r}")
    f = manifest["file"]
    if not isinstance(f, str) or not f or Path(f).name != f:
        bad("file", "a file name beside manifest.json")
    if not isinstance(manifest["sha256"], str) or not _SHA256.fullmatch(manifest["sha256"]):
        bad("sha256", "64 lowercase hex digits")
    labels = manifest["labels"]
    if (not isinstance(labels, list) or len(labels) < 2 or not all(isinstance(x, str) and x for x in labels)
            or len(set(labels)) != len(labels)):
        bad("labels", "a list of at least two distinct non-empty strings")
    if not isinstance(manifest["model_version"], str) or not manifest["model_version"]:
        bad("model_version", "a non-empty string")
    kind = manifest.get("kind", "text-classifier")
    if kind not in KINDS:
        bad("kind", f"one of {', '.join(KINDS)}")
    if slot in SLOTS and kind not in SLOTS[slot]:
        raise ModelError(f"{where}: a {kind!r} model in the {slot!r} folder (expected {' or '.join(SLOTS[slot])}; "
                         "are two model folders swapped?)")
    gen = manifest.get("model_generation", 0)
    if not isinstance(gen, int) or isinstance(gen, bool) or gen < 0:
        bad("model_generation", "a non-negative integer (the retraining that made the model)")
    if "features" in manifest and (not isinstance(manifest["features"], list)
                                   or not all(isinstance(x, str) for x in manifest["features"])):
        bad("features", "a list of feature names")


def read_manifest(model_dir: Path, slot: str | None = None) -> dict:
    """Read and check a manifest (schema, and the kind the folder ``slot`` expects);
    ModelError naming the file and what was expected."""
    mpath = model_dir / "manifest.json"
    if not mpath.is_file():
        raise ModelError(f"{mpath}: model manifest not found (expected a manifest.json beside model.onnx; "
                         f"set {MODEL_DIR_ENV} or reinstall kzclassify)")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, OSError) as e:
        raise ModelError(f"{mpath}: manifest is not valid JSON ({e})") from None
    if not isinstance(manifest, dict):
        raise ModelError(f"{mpath}: manifest must be a JSON object")
    fmt = manifest.get("format_version")
    if fmt != MANIFEST_FORMAT:
        raise ModelError(f"{mpath}: manifest format_version {fmt!r}, this kzclassify reads format {MANIFEST_FORMAT}")
    _check_schema(manifest, mpath, slot)
    return manifest


def _check_graph(sess, manifest: dict, path: Path) -> None:
    """The ONNX graph's inputs and outputs must be what the manifest's kind and labels promise."""
    kind = manifest.get("kind", "text-classifier")
    got = {i.name: i.type for i in sess.get_inputs()}
    want = KINDS[kind]["inputs"]
    if got != want:
        raise ModelError(f"{path}: ONNX inputs {got} do not match a {kind!r} model ({want}); "
                         "wrong model file for this manifest?")
    outs = sess.get_outputs()
    prob = outs[1] if kind != "transformer-classifier" and len(outs) > 1 else outs[0]
    width = prob.shape[-1] if prob.shape else None
    if isinstance(width, int) and width != len(manifest["labels"]):
        raise ModelError(f"{path}: the model scores {width} classes but the manifest lists "
                         f"{len(manifest['labels'])} labels")
    if kind == "mention-ranker" and "features" in manifest:
        dim = sess.get_inputs()[0].shape[-1]
        if isinstance(dim, int) and dim != len(manifest["features"]):
            raise ModelError(f"{path}: the model reads {dim} features but the manifest lists "
                             f"{len(manifest['features'])}")


def load_model(name: str, root: Path | None = None) -> LoadedModel:
    """Load ``<root>/<name>/model.onnx`` after checking its manifest, sha256 and graph."""
    import onnxruntime as ort

    d = (root or model_root()) / name
    manifest = read_manifest(d, name)
    path = d / manifest["file"]
    if not path.is_file():
        raise ModelError(f"{path}: model file not found (named in {d / 'manifest.json'})")
    digest = file_sha256(path)
    if digest != manifest["sha256"]:
        raise ModelError(f"{path}: sha256 {digest[:16]}… does not match the manifest's "
                         f"{str(manifest['sha256'])[:16]}… (corrupt or replaced model file)")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    try:
        sess = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own exception types
        raise ModelError(f"{path}: ONNX Runtime cannot load it ({type(e).__name__}: {str(e)[:200]})") from None
    _check_graph(sess, manifest, path)
    return LoadedModel(name, manifest, sess, path)

