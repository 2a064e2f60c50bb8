"""Shipped models: manifest checks and ONNX Runtime sessions (lazy, once, thread-safe)."""
from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

MANIFEST_FORMAT = 1
MODEL_DIR_ENV = "KZCLASSIFY_MODEL_DIR"


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


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_manifest(model_dir: Path) -> dict:
    """Read and check a manifest; ModelError naming the file and what was expected."""
    mpath = model_dir / "manifest.json"
    if not mpath.is_file():
        raise ModelError(f"{mpath}: model manifest not found (expected a manifest.json beside model.onnx; "
                         f"set {MODEL_DIR_ENV} or reinstall kzclassify)")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelError(f"{mpath}: manifest is not valid JSON ({e})") from None
    if not isinstance(manifest, dict):
        raise ModelError(f"{mpath}: manifest must be a JSON object")
    fmt = manifest.get("format_version")
    if fmt != MANIFEST_FORMAT:
        raise ModelError(f"{mpath}: manifest format_version {fmt!r}, this kzclassify reads format {MANIFEST_FORMAT}")
    for key in ("file", "sha256", "labels", "model_version"):
        if key not in manifest:
            raise ModelError(f"{mpath}: manifest lacks {key!r}")
    return manifest


def load_model(name: str, root: Path | None = None) -> LoadedModel:
    """Load ``<root>/<name>/model.onnx`` after checking its manifest and sha256."""
    import onnxruntime as ort

    d = (root or model_root()) / name
    manifest = read_manifest(d)
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
    return LoadedModel(name, manifest, sess, path)


_lock = threading.Lock()
_cache: dict[tuple[str, str], LoadedModel] = {}


def get_model(name: str) -> LoadedModel:
    """The process-wide model ``name``, loaded on first use."""
    key = (str(model_root()), name)
    m = _cache.get(key)
    if m is not None:
        return m
    with _lock:
        m = _cache.get(key)
        if m is None:
            m = load_model(name)
            _cache[key] = m
        return m


def clear_cache() -> None:
    with _lock:
        _cache.clear()
