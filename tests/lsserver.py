"""A real Label Studio server on 127.0.0.1 for the tests (started and stopped by the `server` fixture in conftest).

The server binary comes from $KZ_LABEL_STUDIO_BIN (the Makefile installs it in
.venv-ls), else ``label-studio`` on PATH, else ROOT/.venv-ls.
"""
import os
import shutil
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "kzclassify-test-token"
USER = "test@kzclassify.local"
PASSWORD = "test-password-123"


class ServerFailed(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def binary() -> str | None:
    found = os.environ.get("KZ_LABEL_STUDIO_BIN") or shutil.which("label-studio")
    default = ROOT / ".venv-ls" / "bin" / "label-studio"
    return found or (str(default) if default.exists() else None)


@contextmanager
def label_studio(home: Path, timeout: float = 600):
    """Start a fresh server with its data under ``home``; yields its URL; stops it on exit."""
    exe = binary()
    if not exe:
        raise ServerFailed("Label Studio is not installed: run `make lsvenv` or set KZ_LABEL_STUDIO_BIN")
    data = home / "data"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("USERNAME", "PASSWORD", "PORT", "HOST")}
    env.update(HOME=str(home), LABEL_STUDIO_BASE_DATA_DIR=str(data), LABEL_STUDIO_USERNAME=USER,
               LABEL_STUDIO_PASSWORD=PASSWORD, LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN="true",
               LABEL_STUDIO_USER_TOKEN=TOKEN, LABEL_STUDIO_ML_BLOCK_LOCAL_IP="false",
               LABEL_STUDIO_SSRF_PROTECTION_ENABLED="false")
    log = open(home / "server.log", "wb")
    proc = subprocess.Popen([exe, "start", "--no-browser", "--internal-host", "127.0.0.1", "--port", str(port),
                             "--data-dir", str(data)], env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + timeout
        while True:
            if proc.poll() is not None:
                raise ServerFailed(f"label-studio exited with {proc.returncode}: "
                                   f"{(home / 'server.log').read_text()[-2000:]}")
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline:
                raise ServerFailed(f"label-studio did not answer /health in {timeout:.0f} s")
            time.sleep(2)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
