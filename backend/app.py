"""The WSGI application: routes, JSON in and out, and the mapping of every failure to an answer.

  GET  /health    → {"status": "UP", "model_version": ...}; always answers, even with a broken model
  POST /setup     {"schema": label_config, ...} → {"model_version": ...}
  POST /predict   {"tasks": [...], "label_config": ...} → {"results": [{"result", "score", "model_version"}, ...]}
  POST /webhook   {"action": "START_TRAINING"} (Label Studio's "Start Training") → 201 with the id of a new
                  background retraining job, 200 with the running one's, 429 during the cooldown;
                  ANNOTATION_CREATED/UPDATED, ANNOTATIONS_CREATED → 200, counted (with --retrain-every N, the
                  N-th since the last job starts one: 201); events of another project and other actions →
                  200 {"status": "ignored"}
  POST /train     the same as START_TRAINING (what Label Studio sends with its webhook feature flag off)
  GET  /jobs      the trigger settings, the annotation counts and every job, newest first
  GET  /jobs/<id> one job: state (running / finished / failed), timings, outcome (MLflow run id, registered
                  versions, promoted, the gate's decision, the served model version) or error, its log

A client's mistake gets a 4xx with {"error": ...} naming what is wrong (and the task id); a model
that fails to load gives 503; only a bug in this code gives 500. Every answer is JSON.
"""
from __future__ import annotations

import json
import logging
import traceback
from http import HTTPStatus

import kzclassify

from .jobs import ANNOTATION_EVENTS, Refused, Trainer
from .limits import Limits
from .predict import RequestError, predict, schema_from
from .serving import Champion, version

log = logging.getLogger("kzclassify.backend")


def model_version(analyzer: kzclassify.Analyzer | None = None) -> str:
    """Version string of the models (``Analyzer.model_version``, as `labeling push` writes it), or 'unavailable'."""
    return version(analyzer or kzclassify.Analyzer())


def json_body(obj) -> bytes:
    """UTF-8 JSON; falls back to ASCII escapes when a string holds a lone surrogate (UTF-8 cannot carry it)."""
    try:
        return json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(obj, ensure_ascii=True).encode("ascii")


def read_json(environ) -> dict:
    """The request body as a JSON object; RequestError 415 for another Content-Type, 400 for anything else.

    The server (waitress) has already refused a malformed or oversized Content-Length and read the
    whole body within its limits, so reading ``wsgi.input`` here cannot block on a stalled client.
    """
    ctype = (environ.get("CONTENT_TYPE") or "").partition(";")[0].strip().lower()
    if ctype != "application/json":  # also what keeps a browser's cross-site "simple" POST out
        raise RequestError(415, f"send the body as Content-Type: application/json, not {ctype or 'nothing'!a}")
    try:
        n = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise RequestError(400, "Content-Length is not a number") from None
    raw = environ["wsgi.input"].read(n) if n > 0 else b""
    try:
        obj = json.loads(raw or b"{}")
    except (ValueError, RecursionError) as e:  # bad JSON, bad UTF-8, a 5,000-digit number, [[[[...
        raise RequestError(400, f"body is not JSON: {type(e).__name__}: {str(e)[:200]}") from None
    if not isinstance(obj, dict):
        raise RequestError(400, "body must be a JSON object")
    return obj


class App:
    """The backend as a WSGI callable; ``trainer`` runs the retraining jobs, ``champion`` holds the served models
    (each request takes ``champion.analyzer`` once: a promotion swaps it between requests, never inside one)."""

    def __init__(self, trainer: Trainer, champion: Champion, limits: Limits | None = None):
        self.trainer = trainer
        self.champion = champion
        self.limits = limits or Limits()

    @property
    def analyzer(self) -> kzclassify.Analyzer:
        return self.champion.analyzer

    def __call__(self, environ, start_response):
        method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "/")
        try:
            status, obj = self.route(method, path.rstrip("/") or "/", environ)
        except RequestError as e:
            status, obj = e.status, {"error": str(e)}
        except Refused as e:
            status, obj = 429, {"error": str(e), "retry_after_s": round(e.retry_after, 1)}
        except kzclassify.ModelError as e:
            status, obj = 503, {"error": str(e)}
        except Exception as e:  # a bug here: logged with its traceback, answered, and the server goes on
            log.error("%s %s failed: %s", method, path, traceback.format_exc())
            status, obj = 500, {"error": f"internal error: {type(e).__name__}"}
        body = json_body(obj)
        start_response(f"{status} {HTTPStatus(status).phrase}",
                       [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(body)))])
        return [body]

    def route(self, method: str, path: str, environ) -> tuple[int, dict]:
        gets = {"/", "/health", "/jobs"}
        posts = {"/setup", "/predict", "/webhook", "/train"}
        if path in gets or path.startswith("/jobs/"):
            if method not in ("GET", "HEAD"):
                raise RequestError(405, f"{path} answers GET, not {method}")
            if path == "/jobs":
                return 200, self.trainer.overview()
            if path.startswith("/jobs/"):
                job = self.trainer.job(path[len("/jobs/"):])
                return (200, job) if job else (404, {"error": "unknown job"})
            return 200, {"status": "UP", "model_class": "kzclassify", "model_version": version(self.analyzer)}
        if path not in posts:
            raise RequestError(404, f"no route {path!a}")
        if method != "POST":
            raise RequestError(405, f"{path} answers POST, not {method}")
        body = read_json(environ)
        if path == "/setup":
            if body.get("schema") in (None, ""):
                raise RequestError(400, "/setup needs 'schema': the project's label config")
            schema_from(body["schema"])
            return 200, {"model_version": version(self.analyzer)}
        if path == "/predict":
            sc = schema_from(body.get("label_config"))
            return 200, {"results": predict(body.get("tasks"), sc, self.analyzer, self.limits)}
        if path == "/train":  # its payload (annotated tasks, a project uid) is not used: the job pulls the project
            return self.trainer.start_training("POST /train")
        return self.webhook(body)

    def webhook(self, body: dict) -> tuple[int, dict]:
        """Label Studio's webhook (created for every event when the backend is connected as a model)."""
        action = body.get("action")
        action = action if isinstance(action, str) else None  # a list is unhashable: check the type first
        if action not in ANNOTATION_EVENTS and action != "START_TRAINING":
            return 200, {"status": "ignored", "action": action}
        if not self.trainer.for_this_project(body):
            mine = f"this backend retrains Label Studio project {self.trainer.settings.project_ref()!r} (--project)"
            if action == "START_TRAINING":  # refused, so the model card shows an error rather than "Training"
                raise RequestError(409, f"{mine}, not the project that asked")
            return 200, {"status": "ignored", "action": action, "reason": mine}
        if action == "START_TRAINING":
            return self.trainer.start_training("START_TRAINING (Label Studio's Start Training)")
        return self.trainer.annotation_event(body)
