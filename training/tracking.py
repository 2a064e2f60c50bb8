"""MLflow set-up: a sqlite store under ``mlruns/`` with artifacts beside it.

``MLFLOW_TRACKING_URI`` overrides the store (a team server).
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from paths import MLRUNS, ROOT

# MLflow names, in one place: experiments and registered models
RELEASE_TYPE_EXPERIMENT, RELEASE_TYPE_MODEL = "release-type", "kzclassify-release-type"
QUOTES_EXPERIMENT, QUOTES_MODEL = "quote-speaker", "kzclassify-quote-speaker"
LOOP_EXPERIMENT = "kzclassify-training"  # one parent run per retraining, the candidates as child runs
# the experiment tag the MLflow 3 UI reads to open an experiment as model training rather than GenAI traces
# (mlflow/server/js: ExperimentKind.CUSTOM_MODEL_DEVELOPMENT)
EXPERIMENT_KIND = ("mlflow.experimentKind", "custom_model_development")
PIP_REQUIREMENTS = ["scikit-learn==1.9.1", "numpy", "skops"]
# sklearn internals that MLflow's skops serialisation must be told are safe to load
SKOPS_TRUSTED = ["sklearn.calibration._CalibratedClassifier", "sklearn.calibration._SigmoidCalibration"]


def tracking_uri(store: str | Path | None = None) -> str:
    if store is None and os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
    d = Path(store) if store else MLRUNS
    d.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{d.resolve() / 'mlflow.db'}"


def setup(experiment: str, store: str | Path | None = None):
    """Point MLflow at the store and return the experiment id (created if needed)."""
    import mlflow

    uri = tracking_uri(store)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    exp = mlflow.get_experiment_by_name(experiment)
    if exp is not None:
        if exp.tags.get(EXPERIMENT_KIND[0]) != EXPERIMENT_KIND[1]:
            mlflow.MlflowClient().set_experiment_tag(exp.experiment_id, *EXPERIMENT_KIND)
        mlflow.set_experiment(experiment)
        return exp.experiment_id
    artifacts = None
    if uri.startswith("sqlite:///"):
        artifacts = (Path(uri[len("sqlite:///"):]).parent / "artifacts").resolve().as_uri()
    eid = mlflow.create_experiment(experiment, artifact_location=artifacts, tags=dict([EXPERIMENT_KIND]))
    mlflow.set_experiment(experiment)
    return eid


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10)
        sha = out.stdout.strip() or "unknown"
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True,
                               timeout=10).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
