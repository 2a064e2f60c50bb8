"""Retraining jobs: what starts one, one at a time with a cooldown, and what each one did.

A job pulls the configured Label Studio project's full export, runs ``training.retrain.retrain`` (the
committed dataset merged with the project's submitted annotations, both models trained as the
challenger, gated against the champion, promoted into the served model folder when not worse) and
records the outcome. It is started by Label Studio's "Start Training" (``START_TRAINING`` on /webhook,
or the older ``POST /train``) and, with ``retrain_every=N``, by the N-th submitted annotation since
the last job started. Annotation events alone are only counted. A job always trains the project
configured when the backend started, whatever project a request names.
"""
from __future__ import annotations

import logging
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
        except Exception as e:  # reported on /jobs, never raised into the server
            expected = self._expected_errors()
            job.error = f"{type(e).__name__}: {e}"
            if not isinstance(e, expected):  # a bug: its traceback belongs in the log
                job.lines.append(traceback.format_exc())
            self._end(job, "failed")
            log.error("retraining job %s failed after %.0f s: %s%s", job.id, job.seconds, job.error,
                      "" if isinstance(e, expected) else "\n" + traceback.format_exc())
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

    @staticmethod
    def _expected_errors() -> tuple[type, ...]:
        """Failures with a clear message of their own (Label Studio down, bad data, a model that will not load)."""
        import kzclassify
        from labeling.client import ServerError
        return ServerError, ValueError, OSError, kzclassify.ModelError

    def _retrain(self, job: Job) -> dict:
        # imported here: scikit-learn and MLflow load only when a retraining starts, so the backend starts
        # in a second and serves predictions on a machine without the `train` extra
        from labeling.client import ServerError, connect, export_full, find_project

        s = self.settings
        if not s.url:
            raise ServerError("no Label Studio URL: start the backend with --label-studio-url (or $LABEL_STUDIO_URL)")
        from training.retrain import retrain
        client = connect(s.url)
        ref = job.project
        if isinstance(ref, int):
            project = client.projects.get(ref)
        else:
            project = find_project(client, ref)
            if project is None:
                raise ServerError(f"no project titled {ref!r} on {s.url} (start the backend with --project)")
        export = export_full(client, project.id)
        job.lines.append(f"pulled {len(export)} tasks of project {project.id} ({project.title!r})")

        def note(*parts) -> None:
            line = " ".join(str(p) for p in parts)
            job.lines.append(line)
            log.debug("job %s: %s", job.id, line)

        kwargs = {k: v for k, v in (("store", s.store), ("models_dir", s.models_dir), ("committed", s.committed),
                                    ("repeats", s.repeats)) if v is not None}
        out = retrain(export, folds=s.folds, log=note, **kwargs)
        served = out.model_version
        if self.champion is not None:
            if out.promoted:
                self.champion.check()
            served = version(self.champion.analyzer)
        return {"run_id": out.run_id, "versions": out.versions, "promoted": out.promoted, "decision": out.decision,
                "model_version": out.model_version, "served_model_version": served,
                "counts": out.counts}
