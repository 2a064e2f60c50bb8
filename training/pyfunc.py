"""Stage 5: the end-to-end ``kzclassify`` pyfunc in the MLflow registry (alias ``champion``).

The two registered part models take features, not releases; this one takes raw
releases (a ``text`` column) and answers ``kzclassify.analyze`` for each, so
``mlflow models serve`` and ``mlflow.pyfunc.spark_udf`` work on the registry's
champion. It wraps the kzclassify wheel built from this repository (the ONNX
models inside), logged with the model and named in its requirements, so the
served model is what ``pip install kzclassify`` gives; the sha256 of the wheel
and of each ONNX model are in the model's metadata and checked when it loads.
"""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .tracking import ROOT, git_commit, setup

MODEL_NAME = "kzclassify"
EXPERIMENT = "kzclassify"
MODEL_CODE = Path(__file__).with_name("pyfunc_model.py")
CORPUS = ROOT / "data" / "akorda_kk.txt"
PARTS = ("release_type", "quote_speaker")
# inputs that give the signature the values the corpus lacks: a null label/runner-up and warnings
EDGE_TEXTS = ["", "The President met the Prime Minister of Japan in Astana."]


@dataclass(frozen=True)
class PyfuncResult:
    run_id: str
    version: str
    model_uri: str
    wheel: str
    wheel_sha256: str
    model_sha256: dict


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_wheel(out_dir: Path) -> Path:
    """Build the kzclassify wheel from this repository into ``out_dir``; its path.

    Raises RuntimeError with the build's stderr when it fails.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "build", "--wheel", "-o", str(out_dir), str(ROOT)]
    r = subprocess.run(cmd[:3] + ["--no-isolation"] + cmd[3:], capture_output=True, text=True)
    if r.returncode:  # no hatchling here: let build make its own isolated env
        r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"building the kzclassify wheel failed:\n{r.stderr[-2000:]}")
    wheels = sorted(out_dir.glob("kzclassify-*.whl"), key=lambda p: p.stat().st_mtime)
    if not wheels:
        raise RuntimeError(f"python -m build wrote no kzclassify wheel to {out_dir}")
    return wheels[-1]


def wheel_models(wheel: Path) -> dict:
    """sha256 and manifest fields of each ONNX model inside ``wheel``, checked against its manifest."""
    out = {}
    with zipfile.ZipFile(wheel) as z:
        for name in PARTS:
            base = f"kzclassify/models/{name}/"
            try:
                manifest = json.loads(z.read(base + "manifest.json"))
                digest = _sha256(z.read(base + manifest["file"]))
            except KeyError as e:
                raise RuntimeError(f"{wheel.name} lacks {e} (is models/{name} exported?)") from None
            if digest != manifest["sha256"]:
                raise RuntimeError(f"{wheel.name}: {base}{manifest['file']} sha256 {digest[:16]}… "
                                   f"does not match its manifest")
            out[name] = {"sha256": digest, "model_version": manifest.get("model_version"),
                         "mlflow_run_id": manifest.get("mlflow_run_id")}
    return out


def _outputs(texts: list[str]) -> list[dict]:
    import kzclassify
    return [kzclassify.analyze(t).to_dict() for t in texts]


def register_pyfunc(store: str | Path | None = None, wheel: Path | None = None,
                    alias: str = "champion") -> PyfuncResult:
    """Build (or take) the kzclassify wheel, log the pyfunc around it, check it, register it.

    The signature is inferred from ``analyze(text).to_dict()`` on every corpus
    release plus two edge cases, so new result fields need no change here. The
    logged model is loaded back and must give ``analyze``'s results on the whole
    corpus before ``alias`` moves to the new version. Raises RuntimeError when
    the wheel cannot be built, its models differ from the ones this process
    analyses with, or the logged model disagrees with ``analyze``.
    """
    import mlflow
    import pandas as pd
    from mlflow.models import infer_signature

    import kzclassify
    from kzclassify.corpus import read_corpus

    here = Path(kzclassify.__file__).resolve().parent.parent
    if wheel is None and here != ROOT:  # the check below compares the wheel with the kzclassify analysing here
        raise RuntimeError(f"kzclassify is imported from {here}, not from this repository {ROOT}: "
                           f"run from {ROOT} (or set PYTHONPATH={ROOT})")
    with tempfile.TemporaryDirectory() as tmp:
        whl = Path(wheel) if wheel else build_wheel(Path(tmp))
        wheel_sha = _sha256(whl.read_bytes())
        parts = wheel_models(whl)
        local = kzclassify.info()["models"]
        for name, p in parts.items():
            if local.get(name, {}).get("sha256") != p["sha256"]:
                raise RuntimeError(f"the wheel's {name} model ({p['sha256'][:16]}…) is not the one kzclassify "
                                   f"loads here ({str(local.get(name, {}).get('sha256'))[:16]}…, "
                                   f"{kzclassify.info()['model_dir']}): build and analyse the same models")
        model_sha = {name: p["sha256"] for name, p in parts.items()}
        texts = [r.text for r in read_corpus(CORPUS)]
        expected = _outputs(texts)
        # ``date`` (optional, ISO string): the release's date, which decides who the sitting president is
        dates = [None] * len(texts) + [None, "2019-03-20"]
        signature = infer_signature(pd.DataFrame({"text": texts + EDGE_TEXTS, "date": dates}),
                                    pd.DataFrame(expected + _outputs(EDGE_TEXTS)))
        setup(EXPERIMENT, store)
        with mlflow.start_run(run_name="kzclassify-pyfunc") as run:
            mlflow.set_tags({"stage": "pyfunc", "git_commit": git_commit()})
            mlflow.log_params({"kzclassify_version": kzclassify.__version__, "wheel": whl.name,
                               "wheel_sha256": wheel_sha,
                               **{f"{n}_model_version": p["model_version"] for n, p in parts.items()}})
            info = mlflow.pyfunc.log_model(
                name="model", python_model=str(MODEL_CODE),
                artifacts={"kzclassify_wheel": str(whl)},
                # relative to the model directory, where MLflow copies the artifact: pip installs this wheel
                pip_requirements=[f"mlflow=={mlflow.__version__}", "pandas", f"artifacts/{whl.name}"],
                signature=signature, input_example=pd.DataFrame({"text": texts[:1]}),
                model_config={"model_sha256": model_sha},
                metadata={"kzclassify_version": kzclassify.__version__,
                          "wheel": {"file": whl.name, "sha256": wheel_sha},
                          "models": parts},
            )
            got = mlflow.pyfunc.load_model(info.model_uri).predict(pd.DataFrame({"text": texts}))
            mismatches = sum(a != b for a, b in zip(got.to_dict(orient="records"), expected))
            mlflow.log_metrics({"corpus_releases": len(texts), "corpus_mismatches": mismatches})
            if mismatches:
                raise RuntimeError(f"the logged pyfunc disagrees with kzclassify.analyze on {mismatches} of "
                                   f"{len(texts)} corpus releases; not registered")
            mv = mlflow.register_model(info.model_uri, MODEL_NAME)
            client = mlflow.MlflowClient()
            client.update_model_version(MODEL_NAME, mv.version, description=(
                f"kzclassify {kzclassify.__version__} end to end (text → analyze), wheel {whl.name} "
                f"sha256 {wheel_sha}; models " + ", ".join(f"{n} {p['model_version']}" for n, p in parts.items())))
            for n, sha in model_sha.items():
                client.set_model_version_tag(MODEL_NAME, mv.version, f"{n}_sha256", sha)
            client.set_model_version_tag(MODEL_NAME, mv.version, "wheel_sha256", wheel_sha)
            if alias:
                client.set_registered_model_alias(MODEL_NAME, alias, mv.version)
        return PyfuncResult(run.info.run_id, str(mv.version), f"models:/{MODEL_NAME}@{alias}" if alias
                            else f"models:/{MODEL_NAME}/{mv.version}", whl.name, wheel_sha, model_sha)


def add_parser(sub) -> None:
    """``python -m training pyfunc``: register the end-to-end model from the current ``models/``."""
    p = sub.add_parser("pyfunc", help="register the end-to-end kzclassify pyfunc (wraps the wheel built from here)")
    p.add_argument("--store", default=None, help="MLflow store dir (default mlruns/; MLFLOW_TRACKING_URI overrides)")
    p.add_argument("--wheel", default=None, help="a prebuilt kzclassify wheel (default: build one from this repo)")
    p.add_argument("--alias", default="champion")
    p.set_defaults(func=cli)


def cli(args) -> int:
    r = register_pyfunc(args.store, Path(args.wheel) if getattr(args, "wheel", None) else None,
                        getattr(args, "alias", "champion"))
    print(f"registered {MODEL_NAME} v{r.version} ({r.model_uri}), run {r.run_id}: {r.wheel} sha256 {r.wheel_sha256}; "
          + ", ".join(f"{n} sha256 {s[:16]}…" for n, s in r.model_sha256.items()))
    return 0
