"""Bounds on what one client can make the backend hold or do, with the flag that sets each.

  --max-body-mb       8     a request body above this is 413 before the application runs
  --max-tasks         1000  tasks in one /predict (413 naming the limit)
  --max-chars         4,000,000  characters of text in one /predict, all tasks together (413)
  --deadline          60 s  a /predict still running after this answers 503 (checked between tasks)
  --request-timeout   20 s  a request (headers and body) must arrive within this of its first byte (408)
  --max-pending-mb    64    bytes of requests being received or waiting for a worker, whole server (503)
  --max-connections   500   open connections; further ones wait in the kernel's listen backlog
  --timeout           30 s  an idle connection is closed

One release is at most kzclassify.MAX_CHARS characters (413). Request bodies are held in memory
(never spooled to a temporary file), which is what --max-pending-mb bounds.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from waitress.channel import HTTPChannel
from waitress.utilities import Error

MiB = 2**20


@dataclass(frozen=True)
class Limits:
    max_tasks: int = 1000
    max_chars: int = 4_000_000
    deadline: float = 60.0
    request_timeout: int = 20
    max_pending: int = 64 * MiB


def add_arguments(p) -> None:
    """The flags of the bounds above that live in Limits (--max-body-mb, --max-connections and --timeout
    are the server's own)."""
    d = Limits()
    p.add_argument("--max-tasks", type=int, default=d.max_tasks, help="tasks in one /predict (default %(default)s)")
    p.add_argument("--max-chars", type=int, default=d.max_chars,
                   help="characters of text in one /predict, all tasks together (default %(default)s)")
    p.add_argument("--deadline", type=float, default=d.deadline,
                   help="seconds a /predict may run before it answers 503 (default %(default)s)")
    p.add_argument("--request-timeout", type=int, default=d.request_timeout,
                   help="seconds a request may take to arrive, from its first byte (default %(default)s)")
    p.add_argument("--max-pending-mb", type=int, default=d.max_pending // MiB,
                   help="MiB of requests held while being received or waiting, whole server (default %(default)s)")
    p.add_argument("--max-connections", type=int, default=500, help="open connections (default %(default)s)")


def from_args(args) -> Limits:
    """Limits from the parsed flags; ValueError (one line) for a bound below 1 or a pending budget
    smaller than two request bodies."""
    for flag in ("max_tasks", "max_chars", "deadline", "request_timeout", "max_pending_mb", "max_connections"):
        if getattr(args, flag) < 1:
            raise ValueError(f"--{flag.replace('_', '-')} must be at least 1")
    if args.max_pending_mb < 2 * args.max_body_mb:
        raise ValueError("--max-pending-mb must be at least twice --max-body-mb")
    return Limits(args.max_tasks, args.max_chars, args.deadline, args.request_timeout, args.max_pending_mb * MiB)


class RequestTimeout(Error):
    code = 408
    reason = "Request Timeout"


class ServerBusy(Error):
    code = 503
    reason = "Service Unavailable"


class Budget:
    """Bytes the server holds for requests being received or waiting for an answer, all connections together."""

    def __init__(self, limit: int):
        self.limit, self.used = limit, 0
        self._lock = threading.Lock()

    def take(self, channel, n: int) -> bool:
        with self._lock:
            if self.used + n > self.limit:
                return False
            self.used += n
            channel.held += n
            return True

    def release(self, channel) -> None:
        with self._lock:
            self.used -= channel.held
            channel.held = 0


class BoundedChannel(HTTPChannel):
    """A connection whose requests count against the server's Budget and must arrive within
    ``request_timeout`` of their first byte; a request over either bound is answered (503, 408) and
    the connection closed. ``bound`` gives the server its ``budget`` and the check of the deadline."""

    request_started: float | None = None  # when the first byte of the request being received arrived
    held = 0  # bytes of this connection's requests counted in the budget

    def received(self, data):
        if not data:
            return False
        if not self.server.budget.take(self, len(data)):
            self.refuse(ServerBusy(f"the server holds {self.server.budget.limit // MiB} MiB of requests "
                                   "(--max-pending-mb); try again shortly"))
            return False
        before = self.request
        out = super().received(data)
        if self.request is None:
            self.request_started = None
        elif self.request is not before or self.request_started is None:
            self.request_started = time.time()
        return out

    def refuse(self, error: Error) -> None:
        """Answer ``error`` in place of the request being received, then close the connection."""
        with self.requests_lock:
            if self.will_close or self.close_when_flushed:
                return
            req = self.parser_class(self.adj)
            req.error, req.completed, req.version = error, True, "1.1"
            if self.request is not None:
                self.request.close()  # drops the partial body
            self.request, self.request_started = None, None
            self.requests.append(req)
            if len(self.requests) == 1:
                self.server.add_task(self)

    def service(self):
        super().service()
        with self.requests_lock:
            idle = self.request is None and not self.requests
        if idle or not self.connected:
            self.server.budget.release(self)

    def handle_close(self):
        if not self.requests:  # else the worker still holds the request: service() releases it
            self.server.budget.release(self)
        super().handle_close()


def bound(server, limits: Limits) -> None:
    """Give a waitress server (whose channel class is a BoundedChannel) its budget and receive deadline."""
    server.budget = Budget(limits.max_pending)
    idle_check = server.maintenance

    def maintenance(now: float) -> None:
        idle_check(now)  # waitress: close connections idle for --timeout
        cutoff = now - limits.request_timeout
        for channel in list(server.active_channels.values()):
            started = getattr(channel, "request_started", None)
            if started is not None and started < cutoff and not channel.requests:
                channel.refuse(RequestTimeout(f"the request did not arrive within {limits.request_timeout} s "
                                              "(--request-timeout)"))

    server.maintenance = maintenance
