"""Retraining jobs: what starts one, one at a time with a cooldown, and what each one did.

A job pulls the configured Label Studio project's full export and runs ``training.retrain.retrain`` on it
in a process of its own (backend/retrain_job.py: the committed dataset merged with the project's
submitted annotations, both models trained as the challenger, gated against the champion, promoted into
the served model folder when not worse); it records the outcome and, after a promotion, has the served
models swapped before it reports the job finished.

A job is started by Label Studio's "Start Training" (``START_TRAINING`` on /webhook, or the older
``POST /train``) and, with ``retrain_every=N``, by the N-th submitted annotation since the last job
started. Annotation events alone are only counted. A job always trains the project
configured when the backend started, whatever project a request names.
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .serving import Champion, version

log = logging.getLogger("kzclassify.backend")

ANNOTATION_EVENTS = ("ANNOTATION_CREATED", "ANNOTATIONS_CREATED", "ANNOTATION_UPDATED")
KEEP_JOBS = 50  # finished jobs listed by /jobs (older ones are forgotten)
LOG_LINES = 40  # lines of the retraining's own log kept per job


class JobFailed(Exception):
    """A retraining that failed for a reason its message gives (Label Studio, the data, the gate's inputs)."""


class Refused(Exception):
    """A retraining that cannot start now (cooldown): answered 429 with the reason."""

    def __init__(self, message: str, retry_after: float):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class Settings:
    """How the backend retrains (the ``python -m backend`` flags)."""

    url: str | None = None  # Label Studio
    project: str | None = None  # id (digits) or title of the project to retrain on; None: labeling's default title
    store: str | None = None  # MLflow store (None: training's default)
    models_dir: Path | None = None  # the served model folder a promotion writes (None: training's default)
    committed: Path | None = None  # the committed dataset merged with the project (None: labeling/annotations/export.json)
    folds: int = 5
    repeats: int | None = None  # None: training's default
    cooldown: float = 60.0  # seconds after a job ends before the next may start
    retrain_every: int | None = None  # start a job after this many submitted annotations (None: never)

    def project_ref(self) -> int | str:
        from labeling.client import DEFAULT_TITLE
        p = self.project or DEFAULT_TITLE
        return int(p) if p.isdigit() else p


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _event_project(body: dict) -> tuple[object, object]:
    project = body.get("project")
    return (project.get("id"), project.get("title")) if isinstance(project, dict) else (None, None)


def submitted_annotations(body: dict) -> int:
    """How many submitted (not skipped) annotations an annotation event carries (1 when it has no payload)."""
    ann = body.get("annotation")
    if ann is None:
        return 1
    anns = ann if isinstance(ann, list) else [ann]
    return sum(1 for a in anns if isinstance(a, dict) and not a.get("was_cancelled"))


@dataclass
class Job:
    id: str
    trigger: str
    project: int | str
    created: float = field(default_factory=time.time)
    state: str = "running"
    started_at: str = field(default_factory=_now)
    finished_at: str | None = None
    seconds: float | None = None
    outcome: dict | None = None
    error: str | None = None
    lines: deque = field(default_factory=lambda: deque(maxlen=LOG_LINES))
    process: subprocess.Popen | None = None  # the retraining's process while it runs

    def summary(self, with_log: bool = False) -> dict:
        out = {"job": self.id, "state": self.state, "trigger": self.trigger, "project": self.project,
               "started_at": self.started_at, "finished_at": self.finished_at,
               "seconds": self.seconds if self.seconds is not None else round(time.time() - self.created, 1)}
        if self.outcome is not None:
            out["outcome"] = self.outcome
        if self.error is not None:
            out["error"] = self.error
        if with_log:
            out["log"] = list(self.lines)
        return out


class Trainer:
    """Starts retraining jobs in a thread (never two at once), counts annotation events, keeps the jobs."""

    def __init__(self, settings: Settings, champion: Champion | None = None):
        self.settings = settings
        self.champion = champion  # the served models: swapped after a promotion, before the job is reported finished
        self.jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._last_end: float | None = None  # time.monotonic() when the last job ended
        self._since_last = 0  # submitted annotations counted since the last job started
        self._counted = {a: 0 for a in ANNOTATION_EVENTS}

    # -- what /webhook and /train call -------------------------------------------------------------

    def for_this_project(self, body: dict) -> bool:
        """Whether an event's project is the configured one (an event naming no project counts as ours)."""
        pid, title = _event_project(body)
        ref = self.settings.project_ref()
        if pid is None and title is None:
            return True
        return pid == ref if isinstance(ref, int) else title == ref

    def start_training(self, trigger: str) -> tuple[int, dict]:
        """(status, answer) for a request to retrain: 201 a new job, 200 the running one, or Refused."""
        with self._lock:
            running = self._running()
            if running:
                return 200, {"status": "already training", "job": running.id, "state": "running",
                             "started_at": running.started_at}
            job = self._start(trigger)
        return 201, {"status": "training", "job": job.id, "state": "running", "project": job.project}

    def annotation_event(self, body: dict) -> tuple[int, dict]:
        """Count a submitted-annotation event; with ``retrain_every``, the N-th starts a job when one may start."""
        n = submitted_annotations(body)
        every = self.settings.retrain_every
        with self._lock:
            self._counted[body["action"]] += n
            self._since_last += n
            answer = {"status": "counted", "annotations_since_last_run": self._since_last, "retrain_every": every}
            if not every or self._since_last < every or self._running() or self._cooling() > 0:
                return 200, answer
            job = self._start(f"{every} annotations (--retrain-every)")
        return 201, {"status": "training", "job": job.id, "state": "running", "project": job.project}

    def overview(self) -> dict:
        s = self.settings
        with self._lock:
            jobs = [j.summary() for j in sorted(self.jobs.values(), key=lambda j: -j.created)]
            return {"project": s.project_ref(), "cooldown_s": s.cooldown, "cooldown_left_s": round(self._cooling(), 1),
                    "retrain_every": s.retrain_every, "annotations_since_last_run": self._since_last,
                    "annotation_events": dict(self._counted), "jobs": jobs}

    def job(self, job_id: str) -> dict | None:
        with self._lock:
            j = self.jobs.get(job_id)
            return j.summary(with_log=True) if j else None

    # -- inside -------------------------------------------------------------------------------------

    def _running(self) -> Job | None:
        return next((j for j in self.jobs.values() if j.state == "running"), None)

    def _cooling(self) -> float:
        if self._last_end is None:
            return 0.0
        return max(0.0, self.settings.cooldown - (time.monotonic() - self._last_end))

    def _start(self, trigger: str) -> Job:
        """A new job (the caller holds the lock and checked that none runs); Refused during the cooldown."""
        left = self._cooling()
        if left > 0:
            raise Refused(f"cooldown: the last retraining ended {self.settings.cooldown - left:.0f} s ago; the next "
                          f"can start in {left:.0f} s (--cooldown {self.settings.cooldown:g})", left)
        job = Job(uuid.uuid4().hex[:12], trigger, self.settings.project_ref())
        self.jobs[job.id] = job
        for old in sorted(self.jobs.values(), key=lambda j: j.created)[:-KEEP_JOBS]:
            del self.jobs[old.id]
        self._since_last = 0
        log.info("retraining job %s started (%s) on Label Studio project %r", job.id, trigger, job.project)
        threading.Thread(target=self._run, args=(job,), daemon=True, name=f"retrain-{job.id}").start()
        return job

    def _run(self, job: Job) -> None:
        try:
            outcome = self._retrain(job)
        except JobFailed as e:  # reported on /jobs, never raised into the server
            job.error = str(e)
            self._end(job, "failed")
            log.error("retraining job %s failed after %.0f s: %s", job.id, job.seconds, job.error)
            return
        except Exception as e:  # a bug here: logged with its traceback, the server goes on
            job.error = f"{type(e).__name__}: {e}"
            self._end(job, "failed")
            log.error("retraining job %s failed after %.0f s: %s", job.id, job.seconds, traceback.format_exc())
            return
        job.outcome = outcome
        self._end(job, "finished")
        log.info("retraining job %s finished in %.0f s: MLflow run %s, %s; serving %s", job.id, job.seconds,
                 outcome["run_id"], "promoted" if outcome["promoted"] else "held back", outcome["served_model_version"])

    def _end(self, job: Job, state: str) -> None:
        with self._lock:
            job.seconds = round(time.time() - job.created, 1)
            job.finished_at = _now()
            job.state = state
            self._last_end = time.monotonic()

    def _retrain(self, job: Job) -> dict:
        from labeling.client import ServerError, connect, export_full, find_project

        s = self.settings
        if not s.url:
            raise JobFailed("no Label Studio URL: start the backend with --label-studio-url (or $LABEL_STUDIO_URL)")
        try:
            client = connect(s.url)
            ref = job.project
            project = client.projects.get(ref) if isinstance(ref, int) else find_project(client, ref)
            if project is None:
                raise ServerError(f"no project titled {ref!r} on {s.url} (start the backend with --project)")
            export = export_full(client, project.id)
        except ServerError as e:
            raise JobFailed(f"ServerError: {e}") from None
        except Exception as e:  # the SDK's own errors (a deleted project id, a refused request)
            raise JobFailed(f"Label Studio at {s.url} refused the export: {type(e).__name__}: {str(e)[:300]}") from None
        job.lines.append(f"pulled {len(export)} tasks of project {project.id} ({project.title!r})")
        with tempfile.TemporaryDirectory(prefix="kzclassify-job-") as td:
            d = Path(td)
            (d / "export.json").write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
            cmd = [sys.executable, "-m", "backend.retrain_job", "--export", str(d / "export.json"),
                   "--out", str(d / "outcome.json"), "--folds", str(s.folds)]
            for flag, v in (("--store", s.store), ("--models-dir", s.models_dir), ("--committed", s.committed),
                            ("--repeats", s.repeats)):
                if v is not None:
                    cmd += [flag, str(v)]
            env = {**os.environ, "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false", "PYTHONUNBUFFERED": "1"}
            with self._lock:
                job.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                                               text=True, encoding="utf-8", errors="replace")
            for line in job.process.stdout:  # the job's own log: /jobs/<id>
                if line.strip():
                    job.lines.append(line.rstrip()[:2000])
            code = job.process.wait()
            try:
                result = json.loads((d / "outcome.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                result = {"error": f"the retraining process ended with exit code {code} and no outcome "
                                   f"(its last lines are in /jobs/{job.id})"}
        if code != 0 or "error" in result:
            raise JobFailed(result.get("error") or f"exit code {code}")
        served = result["model_version"]
        if self.champion is not None:
            if result["promoted"]:
                self.champion.check()
            served = version(self.champion.analyzer)
        return {**{k: result[k] for k in ("run_id", "versions", "promoted", "decision", "model_version", "counts")},
                "served_model_version": served}

    def stop(self) -> None:
        """End a running retraining's process (the backend is stopping)."""
        with self._lock:
            running = self._running()
            proc = running.process if running else None
        if proc is not None and proc.poll() is None:
            proc.terminate()
