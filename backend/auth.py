"""Who may call the backend: HTTP Basic credentials on every route, and no cross-site browser requests.

Credentials come from ``BASIC_AUTH_USER`` and ``BASIC_AUTH_PASS``, the variables label-studio-ml-backend
reads; Label Studio sends them on every call when the model connection has "Basic Authentication"
set (its ``basic_auth_user``/``basic_auth_pass`` fields), the training webhook included. They are
compared in constant time. ``GET /health`` (and ``/``) answers without credentials, but then says
only ``{"status": "UP"}``: the model versions need credentials.

Without credentials the backend serves only a loopback address (``check_listen``): anyone who can
reach the port could otherwise read job details and start retrainings.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import os
from urllib.parse import urlsplit

USER_ENV, PASS_ENV = "BASIC_AUTH_USER", "BASIC_AUTH_PASS"
HEALTH_PATHS = frozenset(("/health", "/"))
REALM = 'Basic realm="kzclassify ML backend", charset="UTF-8"'


class AuthConfigError(ValueError):
    """Credentials set up wrongly, or none where they are required; the message is one line."""


def credentials_from_env(environ=os.environ) -> tuple[str, str] | None:
    """``(user, password)`` from BASIC_AUTH_USER/BASIC_AUTH_PASS; None when neither is set."""
    user, password = environ.get(USER_ENV) or "", environ.get(PASS_ENV) or ""
    if not user and not password:
        return None
    if not user or not password:
        raise AuthConfigError(f"set both {USER_ENV} and {PASS_ENV} (only {USER_ENV if user else PASS_ENV} is set)")
    if ":" in user:
        raise AuthConfigError(f"{USER_ENV} must not contain ':' (HTTP Basic separates user and password with it)")
    return user, password


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_listen(host: str, credentials: tuple[str, str] | None) -> None:
    """AuthConfigError when ``host`` is reachable from other machines and no credentials are set."""
    if credentials is None and not is_loopback(host):
        raise AuthConfigError(f"refusing to listen on {host} without credentials: set {USER_ENV} and {PASS_ENV} "
                              "(Label Studio's model connection sends them), or listen on 127.0.0.1")


def _answer(start_response, status: str, body: bytes, extra=()) -> list[bytes]:
    start_response(status, [("Content-Type", "application/json; charset=utf-8"),
                            ("Content-Length", str(len(body))), *extra])
    return [body]


def _same_origin(environ) -> bool:
    """False for a browser request from another site: its Origin names a host other than the one it reached.

    Label Studio calls the backend server to server (no Origin header); a page open in a browser
    sends ``Origin`` with every POST.
    """
    origin = environ.get("HTTP_ORIGIN")
    if origin is None:
        return True
    host = environ.get("HTTP_HOST") or ""
    try:
        return urlsplit(origin).netloc.lower() == host.lower() and bool(host)
    except ValueError:
        return False


class BasicAuth:
    """WSGI middleware: 401 without the right credentials (``credentials=None``: open, for loopback use),
    403 for a cross-site POST, and a /health that reveals only "UP" to strangers."""

    def __init__(self, app, credentials: tuple[str, str] | None):
        self.app = app
        self._expected = None if credentials is None else f"{credentials[0]}:{credentials[1]}".encode("utf-8")

    def authorized(self, environ) -> bool:
        if self._expected is None:
            return True
        scheme, _, token = (environ.get("HTTP_AUTHORIZATION") or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            given = base64.b64decode(token.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        # constant time, and digests of equal length: neither a wrong byte's position nor the length leaks
        return hmac.compare_digest(hashlib.sha256(given).digest(), hashlib.sha256(self._expected).digest())

    def __call__(self, environ, start_response):
        method, path = environ.get("REQUEST_METHOD", "GET"), (environ.get("PATH_INFO") or "/").rstrip("/") or "/"
        if method not in ("GET", "HEAD", "OPTIONS") and not _same_origin(environ):
            return _answer(start_response, "403 Forbidden",
                           b'{"error": "cross-site request refused (the Origin is not this server)"}')
        if self.authorized(environ):
            return self.app(environ, start_response)
        if path in HEALTH_PATHS and method in ("GET", "HEAD"):
            return _answer(start_response, "200 OK", b'{"status": "UP"}')
        return _answer(start_response, "401 Unauthorized",
                       b'{"error": "authentication required (HTTP Basic: the backend\'s BASIC_AUTH_USER and '
                       b'BASIC_AUTH_PASS)"}', [("WWW-Authenticate", REALM)])
