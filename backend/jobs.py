"""Background retraining: pull the project's export from Label Studio, train, log to MLflow; one job at a time."""
from __future__ import annotations

import logging
import tempfile
import threading
import traceback
import uuid
from pathlib import Path

log = logging.getLogger("kzclassify.backend")


class Trainer:
    """Starts retraining jobs in a thread and keeps their states by job id."""

    def __init__(self, url: str | None, store: str | None, folds: int = 5):
        self.url, self.store, self.folds = url, store, folds
        self.jobs: dict[str, dict] = {}
        self._lock = threading.Lock()

    def start(self, project_title: str | None) -> dict:
        """A new running job, or the one already running (never two at once)."""
        with self._lock:
            running = [j for j, s in self.jobs.items() if s["state"] == "running"]
            if running:
                return {"job": running[0], "state": "running", "note": "a retraining is already running"}
            job = uuid.uuid4().hex[:12]
            self.jobs[job] = {"state": "running"}
        threading.Thread(target=self._run, args=(job, project_title), daemon=True, name=f"retrain-{job}").start()
        return {"job": job, "state": "running"}

    def _run(self, job: str, project_title: str | None) -> None:
        try:
            # imported here: scikit-learn and MLflow load only when a retraining starts, so the backend
            # starts in a second and serves predictions on a machine without the `train` extra
            from labeling.client import DEFAULT_TITLE, connect, pull
            from training import release_type
            if not self.url:
                raise RuntimeError("no Label Studio URL: start the backend with --label-studio-url")
            with tempfile.TemporaryDirectory() as td:
                export = Path(td) / "export.json"
                pull(connect(self.url), export, project_title or DEFAULT_TITLE)
                r = release_type.train(export, self.store, self.folds)
            self.jobs[job] = {"state": "finished", "mlflow_run_id": r.run_id, "model_version": r.version,
                              "cv_macro_f1": r.shipped["cv"]["macro_f1"]}
            log.info("retraining %s finished: MLflow run %s", job, r.run_id)
        except Exception as e:  # a failed retraining is reported on /jobs/<id>, never raised into the server
            self.jobs[job] = {"state": "failed", "error": f"{type(e).__name__}: {e}"}
            log.error("retraining %s failed: %s", job, traceback.format_exc())
