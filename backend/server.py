"""The HTTP server: waitress with a fixed worker pool, a listen backlog, timeouts and bounds on what it holds.

Waitress reads requests asynchronously and hands a worker only a request it has received in
full, so a client that stalls mid-request holds a socket, not a thread, and is closed after
``timeout`` seconds of silence, or ``--request-timeout`` seconds after its request began however
slowly it trickles in (backend/limits.py). A malformed or negative Content-Length is a 400 and a
body over ``max_body`` a 413 before the application runs; those answers are JSON too (JSONErrorTask).
Bodies stay in memory (no temporary files), within the server-wide ``--max-pending-mb``.
``GET /health`` (and ``/``) and these protocol errors have a worker thread of their own
(HealthLane), so Label Studio's health check answers at once while every worker is busy with /predict.
Every route but an anonymous /health needs the Basic credentials (backend/auth.py).
"""
from __future__ import annotations

import json
import os

from waitress.server import create_server
from waitress.task import ErrorTask, ThreadedTaskDispatcher

from .app import App
from .auth import BasicAuth, check_listen
from .jobs import Settings, Trainer
from .limits import BoundedChannel, Limits, bound
from .serving import Champion


class JSONErrorTask(ErrorTask):
    """Waitress's own protocol errors (400, 413, 431, ...) as ``{"error": ...}`` instead of plain text."""

    def execute(self):
        e = self.request.error
        hint = " (--max-body-mb)" if e.code == 413 else ""
        body = json.dumps({"error": f"{e.reason}: {e.body}{hint}"}, ensure_ascii=True).encode("ascii")
        self.status = f"{e.code} {e.reason}"
        self.response_headers.append(("Content-Type", "application/json; charset=utf-8"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class JSONErrorChannel(BoundedChannel):
    error_task_class = JSONErrorTask


class HealthLane:
    """The server's task dispatcher with a lane of its own for the health routes.

    A channel is queued here when its next request is complete (waitress runs one request of a
    connection at a time); ``GET``/``HEAD`` of ``HEALTH_PATHS`` go to one dedicated thread, the rest
    to the ``threads`` workers. /health reads no model and holds no worker.
    """

    HEALTH_PATHS = frozenset(("/health", "/"))

    def __init__(self, workers: ThreadedTaskDispatcher):
        self.workers = workers
        self.health = ThreadedTaskDispatcher()
        self.health.set_thread_count(1)

    def add_task(self, channel) -> None:
        request = channel.requests[0] if getattr(channel, "requests", None) else None
        if request is not None and (request.error or (request.command in ("GET", "HEAD")
                                                      and request.path in self.HEALTH_PATHS)):
            self.health.add_task(channel)
        else:
            self.workers.add_task(channel)

    def set_thread_count(self, count: int) -> None:
        self.workers.set_thread_count(count)

    def shutdown(self, cancel_pending: bool = True, timeout: int = 5) -> bool:
        a = self.health.shutdown(cancel_pending, timeout)
        return self.workers.shutdown(cancel_pending, timeout) and a


def make_server(host: str = "127.0.0.1", port: int = 9090, label_studio_url: str | None = None,
                store: str | None = None, folds: int = 5, *, model_dir: str | None = None, threads: int = 4, timeout: int = 30,
                backlog: int = 1024, connection_limit: int = 500, max_body: int = 8 * 2**20,
                limits: Limits | None = None, credentials: tuple[str, str] | None = None,
                retrain: Settings | None = None, reload_interval: float = 1.0):
    """A waitress server running the backend (``.run()`` serves until ``.close()``; ``.app.trainer`` is the
    retraining state, ``.app.champion`` the served models, following ``model_dir`` every ``reload_interval``
    seconds). ``retrain`` holds the retraining settings beyond the URL, store and folds.
    ``port=0`` picks a free port: read it from ``.effective_port``.

    ``threads`` requests are processed at once; further complete requests queue (at most one per open
    connection, and at most ``connection_limit`` connections; beyond that connections wait in the
    kernel's ``backlog``). ``timeout`` closes a connection silent for that many seconds. ``limits`` bound
    each request (backend/limits.py); ``credentials`` (user, password) are required on every route but
    an anonymous /health. AuthConfigError when ``host`` is not loopback and there are no credentials.
    """
    limits = limits or Limits()
    check_listen(host, credentials)
    champion = Champion(model_dir, reload_interval)
    settings = retrain or Settings()
    settings.url, settings.store, settings.folds = label_studio_url or os.environ.get("LABEL_STUDIO_URL"), store, folds
    settings.models_dir = champion.model_dir  # a promotion writes the folder the backend serves
    app = App(Trainer(settings, champion), champion, limits)
    server = create_server(BasicAuth(app, credentials), host=host, port=port, threads=threads, backlog=backlog,
                           connection_limit=connection_limit, channel_timeout=timeout, asyncore_use_poll=True,
                           cleanup_interval=max(1, min(timeout, limits.request_timeout) // 4),
                           max_request_body_size=max_body, inbuf_overflow=max_body + 2**16,
                           ident="kzclassify-ml-backend")
    server.channel_class = JSONErrorChannel
    bound(server, limits)
    server.task_dispatcher = HealthLane(server.task_dispatcher)
    server.app = app
    return server
