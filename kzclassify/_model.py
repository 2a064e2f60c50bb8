"""Shipped models: manifest schema, sha256 and ONNX graph checks, one ONNX Runtime session per model.

A model folder is trusted no further than its manifest checks: every file the manifest names
(``FILES``) is a plain name inside the folder (no ``..``, no absolute path, no symlink out of it)
with its sha256 in the manifest; each is read once, and the bytes that were hashed are the bytes
loaded (ONNX Runtime and the tokenizer get bytes, never a path to reopen). An ONNX file that keeps
its weights in external data files is refused. Numeric fields are bounded (``BOUNDS``).
Keys the checks do not know are allowed (other tools add fields).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import tempfile
from dataclasses import dataclass, field
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
# manifest fields that name a file in the folder → the field holding its sha256
FILES = {"file": "sha256", "tokenizer": "tokenizer_sha256"}
# integer fields and their inclusive bounds
BOUNDS = {"max_length": (1, 8192), "pad_id": (0, 2**31 - 1)}
MAX_LABELS, MAX_FEATURES = 1000, 10_000


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
    blobs: dict = field(default_factory=dict)  # the other files the manifest names (field → bytes), checked

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
    for name_key, sha_key in FILES.items():
        if name_key not in manifest:
            continue
        f = manifest[name_key]
        if (not isinstance(f, str) or not f or f in (".", "..") or Path(f).name != f or "/" in f or "\\" in f
                or "\0" in f):
            bad(name_key, "a file name beside manifest.json (no folder, no '..')")
        if not isinstance(manifest.get(sha_key), str) or not _SHA256.fullmatch(manifest[sha_key]):
            bad(sha_key, f"the sha256 of {name_key!r}: 64 lowercase hex digits")
    for key, (lo, hi) in BOUNDS.items():
        v = manifest.get(key)
        if key in manifest and (not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi):
            bad(key, f"an integer from {lo} to {hi}")
    labels = manifest["labels"]
    if (not isinstance(labels, list) or not 2 <= len(labels) <= MAX_LABELS
            or not all(isinstance(x, str) and x for x in labels) or len(set(labels)) != len(labels)):
        bad("labels", f"a list of 2 to {MAX_LABELS} distinct non-empty strings")
    if not isinstance(manifest["model_version"], str) or not manifest["model_version"]:
        bad("model_version", "a non-empty string")
    kind = manifest.get("kind", "text-classifier")
    if kind not in KINDS:
        bad("kind", f"one of {', '.join(KINDS)}")
    if kind == "transformer-classifier" and not ("tokenizer" in manifest and "max_length" in manifest):
        raise ModelError(f"{where}: a transformer-classifier manifest needs 'tokenizer' (with 'tokenizer_sha256') "
                         "and 'max_length'")
    if slot in SLOTS and kind not in SLOTS[slot]:
        raise ModelError(f"{where}: a {kind!r} model in the {slot!r} folder (expected {' or '.join(SLOTS[slot])}; "
                         "are two model folders swapped?)")
    gen = manifest.get("model_generation", 0)
    if not isinstance(gen, int) or isinstance(gen, bool) or gen < 0:
        bad("model_generation", "a non-negative integer (the retraining that made the model)")
    if "features" in manifest and (not isinstance(manifest["features"], list) or len(manifest["features"]) > MAX_FEATURES
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


def read_checked(model_dir: Path, manifest: dict, name_key: str) -> tuple[Path, bytes]:
    """The bytes of the file that ``manifest[name_key]`` names, read once and checked against its sha256.

    ModelError when the file is missing, is reached through a symlink leading out of ``model_dir``,
    or its digest differs from the manifest's.
    """
    path = model_dir / manifest[name_key]
    where = f"named in {model_dir / 'manifest.json'}"
    real = path.resolve()
    if not real.is_relative_to(model_dir.resolve()):
        raise ModelError(f"{path}: leads out of the model folder (to {real}); {where}")
    try:
        # the resolved path, not followed again (a symlink swapped in now fails), and a FIFO cannot block
        fd = os.open(real, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise ModelError(f"{path}: not a regular file; {where}")
            data = f.read()
    except FileNotFoundError:
        raise ModelError(f"{path}: model file not found ({where})") from None
    except OSError as e:
        raise ModelError(f"{path}: cannot read it ({e.strerror or e}); {where}") from None
    digest = hashlib.sha256(data).hexdigest()
    expected = manifest[FILES[name_key]]
    if digest != expected:
        raise ModelError(f"{path}: sha256 {digest[:16]}… does not match the manifest's {expected[:16]}… "
                         "(corrupt or replaced model file)")
    return path, data


def _session(data: bytes, path: Path):
    """An ONNX Runtime session from the model's bytes; external data (weights in side files) is refused."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    with tempfile.TemporaryDirectory(prefix="kzclassify-no-external-data-") as empty:
        # a model loaded from bytes would look for external data in the working directory: point it
        # at an empty folder so any reference to a side file fails
        opts.add_session_config_entry("session.model_external_initializers_file_folder_path", empty)
        try:
            return ort.InferenceSession(data, sess_options=opts, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own exception types
            msg = str(e)
            if "external data" in msg.lower():
                raise ModelError(f"{path}: the ONNX file keeps weights in external data files, which kzclassify "
                                 "does not load (export the model as one self-contained .onnx)") from None
            raise ModelError(f"{path}: ONNX Runtime cannot load it ({type(e).__name__}: {msg[:200]})") from None


def load_model(name: str, root: Path | None = None) -> LoadedModel:
    """Load ``<root>/<name>/model.onnx`` after checking its manifest, the sha256 of every file it names,
    and the graph."""
    d = (root or model_root()) / name
    manifest = read_manifest(d, name)
    path, data = read_checked(d, manifest, "file")
    blobs = {key: read_checked(d, manifest, key)[1] for key in FILES if key != "file" and key in manifest}
    sess = _session(data, path)
    _check_graph(sess, manifest, path)
    return LoadedModel(name, manifest, sess, path, blobs)
