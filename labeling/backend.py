"""``python -m labeling serve``: a Label Studio ML backend serving the shipped kzclassify models.

Protocol (what Label Studio calls):
  GET  /health   → {"status": "UP", "model_version": ...}
  POST /setup    {"schema": label_config, "project": ...} → {"model_version": ...}
  POST /predict  {"tasks": [...], "label_config": ...} → {"results": [{"result", "score", "model_version"}, ...]}
  POST /webhook  annotation events or {"action": "START_TRAINING"} → starts a retraining MLflow run in
                 the background and answers at once with the job id
  GET  /jobs/<id> → state of a retraining job (running / finished with its MLflow run id / failed)

Bad requests get a JSON error with a 4xx status; a model that fails to load gives
503 on /predict while /health keeps answering. The server never dies on a request.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import traceback
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .ls_format import to_results
from .schema import parse_config

log = logging.getLogger("kzclassify.backend")
TRAIN_EVENTS = {"START_TRAINING", "ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_CREATED"}


class BadRequest(ValueError):
    pass


def model_version() -> str:
    """Version string of the shipped models, from their manifests (or 'unavailable')."""
    import kzclassify
    try:
        models = kzclassify.info()["models"]
        return "+".join(m.get("model_version", "?") for m in models.values())
    except Exception:
        return "unavailable"


def predict_task(task: dict, schema, version: str) -> dict:
    """One Label Studio prediction for a task, in the project's own tag names."""
    import kzclassify
    data = task.get("data") if isinstance(task, dict) else None
    if not isinstance(data, dict):
        raise BadRequest("each task needs a 'data' object")
    text = data.get(schema.text_name, data.get("text"))
    if not isinstance(text, str):
        raise BadRequest(f"task {task.get('id')}: data.{schema.text_name} must be a string")
    a = kzclassify.analyze(text)
    if a.release_type.label is None:
        return {"result": [], "score": 0.0, "model_version": version}
    result = to_results(a, schema, origin="prediction")
    return {"result": result, "score": round(a.release_type.score, 4), "model_version": version}


class Trainer:
    """Background retraining: pull the export, train, log to MLflow; one job at a time."""

    def __init__(self, url: str | None, store: str | None, folds: int = 5):
        self.url, self.store, self.folds = url, store, folds
        self.jobs: dict[str, dict] = {}
        self._lock = threading.Lock()

    def start(self, project_title: str | None) -> dict:
        with self._lock:
            running = [j for j, s in self.jobs.items() if s["state"] == "running"]
            if running:
                return {"job": running[0], "state": "running", "note": "a retraining is already running"}
            job = uuid.uuid4().hex[:12]
            self.jobs[job] = {"state": "running"}
        threading.Thread(target=self._run, args=(job, project_title), daemon=True).start()
        return {"job": job, "state": "running"}

    def _run(self, job: str, project_title: str | None) -> None:
        try:
            import tempfile

            from training import release_type

            from .client import DEFAULT_TITLE, connect, pull
            if not self.url:
                raise RuntimeError("no Label Studio URL: start the backend with --label-studio-url")
            with tempfile.TemporaryDirectory() as td:
                export = Path(td) / "export.json"
                pull(connect(self.url), export, project_title or DEFAULT_TITLE)
                r = release_type.train(export, self.store, self.folds)
            self.jobs[job] = {"state": "finished", "mlflow_run_id": r.run_id, "model_version": r.version,
                              "cv_macro_f1": r.shipped["cv"]["macro_f1"]}
            log.info("retraining %s finished: MLflow run %s", job, r.run_id)
        except Exception as e:  # a failed retraining is reported, never raised into the server
            self.jobs[job] = {"state": "failed", "error": f"{type(e).__name__}: {e}"}
            log.error("retraining %s failed: %s", job, traceback.format_exc())


def make_handler(trainer: Trainer):
    class Handler(BaseHTTPRequestHandler):
        server_version = "kzclassify-ml-backend"

        def log_message(self, fmt, *args):
            log.info("%s %s", self.address_string(), fmt % args)

        def _send(self, status: int, obj) -> None:
            body = json.dumps(obj, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self) -> dict:
            n = int(self.headers.get("Content-Length") or 0)
            if n > 50_000_000:
                raise BadRequest("request body too large")
            try:
                obj = json.loads(self.rfile.read(n) or b"{}")
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                raise BadRequest(f"body is not JSON: {e}") from None
            if not isinstance(obj, dict):
                raise BadRequest("body must be a JSON object")
            return obj

        def do_GET(self):
            if self.path.rstrip("/") in ("/health", ""):
                return self._send(200, {"status": "UP", "model_class": "kzclassify", "model_version": model_version()})
            if self.path.startswith("/jobs/"):
                job = trainer.jobs.get(self.path.split("/")[2])
                return self._send(200 if job else 404, job or {"error": "unknown job"})
            self._send(404, {"error": f"no route {self.path}"})

        def do_POST(self):
            try:
                body = self._json()
                route = self.path.rstrip("/")
                if route == "/setup":
                    parse_config(body.get("schema") or "")
                    return self._send(200, {"model_version": model_version()})
                if route == "/predict":
                    tasks = body.get("tasks")
                    if not isinstance(tasks, list):
                        raise BadRequest("'tasks' must be a list")
                    from .schema import schema as project_schema
                    schema = parse_config(body["label_config"]) if body.get("label_config") else project_schema()
                    version = model_version()  # read the manifests once per request, not once per task
                    return self._send(200, {"results": [predict_task(t, schema, version) for t in tasks]})
                if route == "/webhook":
                    action = body.get("action")
                    if action not in TRAIN_EVENTS:
                        return self._send(200, {"status": "ignored", "action": action})
                    title = (body.get("project") or {}).get("title") if isinstance(body.get("project"), dict) else None
                    return self._send(201, {"status": "training", **trainer.start(title)})
                self._send(404, {"error": f"no route {self.path}"})
            except BadRequest as e:
                self._send(400, {"error": str(e)})
            except Exception as e:
                from kzclassify import ModelError
                from xml.etree.ElementTree import ParseError
                if isinstance(e, ParseError) or (isinstance(e, ValueError) and "config" in str(e)):
                    return self._send(422, {"error": f"unknown project config: {e}"})
                if isinstance(e, ModelError):
                    return self._send(503, {"error": str(e)})
                log.error("request failed: %s", traceback.format_exc())
                self._send(500, {"error": f"{type(e).__name__}: {e}"})

    return Handler


def serve(host: str = "127.0.0.1", port: int = 9090, label_studio_url: str | None = None,
          store: str | None = None, folds: int = 5) -> ThreadingHTTPServer:
    """Create the backend server (call ``serve_forever`` on it)."""
    trainer = Trainer(label_studio_url or os.environ.get("LABEL_STUDIO_URL"), store, folds)
    httpd = ThreadingHTTPServer((host, port), make_handler(trainer))
    httpd.daemon_threads = True
    httpd.trainer = trainer  # type: ignore[attr-defined]
    return httpd
