"""The ML backend (`python -m backend`) as a client sees it: hostile requests, load, stalled clients.

Each server here is the real entry point in its own process on 127.0.0.1. The backend connected
to a real Label Studio server is tested in test_labelstudio.py.
"""
import ast
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from conftest import ROOT

KAZAKH = "Мемлекет басшысы Жапония Премьер-министрімен кездесті.\n– Біз ынтымақтастықты дамытамыз, – деді Қасым-Жомарт Тоқаев."
TIMEOUT = 2  # the test servers close a silent connection after this many seconds


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def backend_process(*args: str, env: dict | None = None, log_to=None):
    """``python -m backend`` on a free port (its output in the file ``log_to`` if given); yields its URL and
    stops it afterwards."""
    port = _free_port()
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    log = open(log_to, "w+b") if log_to else tempfile.TemporaryFile()  # not a pipe: a retraining logs more than a pipe holds
    proc = subprocess.Popen([sys.executable, "-m", "backend", "--port", str(port), *args], cwd=ROOT, env=full_env,
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            if proc.poll() is not None:
                log.seek(0)
                pytest.fail(f"the backend exited with {proc.returncode}: {log.read().decode()[-2000:]}")
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.time() < deadline, "the backend did not answer /health in 60 s"
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()


@pytest.fixture(scope="module")
def backend():
    with backend_process("--timeout", str(TIMEOUT), "--max-body-mb", "8") as url:
        yield url


def raw(url: str, request: bytes, timeout: float = 20) -> tuple[int, dict, bytes]:
    """Send bytes as they are; the status line, headers and body of the answer (fails on no answer)."""
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    assert data, "no answer"
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines)}
    return int(status_line.split()[1]), headers, body


def post(path: str, body: bytes, content_length: str | None = None) -> bytes:
    cl = str(len(body)) if content_length is None else content_length
    return (f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nConnection: close\r\n"
            f"Content-Length: {cl}\r\n\r\n").encode() + body


def task(text, tid=1) -> bytes:
    return json.dumps({"tasks": [{"id": tid, "data": {"text": text}}]}, ensure_ascii=False).encode("utf-8", "surrogatepass")


# (request bytes, expected status, words the JSON error must contain) — each a case from issue 11 or its kin
CASES = {
    "setup schema 5": (post("/setup", b'{"schema": 5}'), 400, ["label config", "int"]),
    "setup without schema": (post("/setup", b'{"project": "1.2"}'), 400, ["schema"]),
    "setup unknown config": (post("/setup", b'{"schema": "<View><Text name=\'t\' value=\'$t\'/></View>"}'), 422,
                             ["unknown project config"]),
    "setup broken xml": (post("/setup", b'{"schema": "<View"}'), 422, ["unknown project config"]),
    "predict label_config 5": (post("/predict", b'{"tasks": [], "label_config": 5}'), 400, ["label config"]),
    "lone surrogate in a text": (post("/predict", b'{"tasks": [{"id": 7, "data": {"text": "\\ud800 \xd0\x90"}}]}'),
                                 400, ["task 7", "surrogate", "offset 0"]),
    "text over 2M characters": (post("/predict", task("а" * 2_000_001, tid=8)), 413, ["task 8", "2,000,000"]),
    "lone surrogate task id": (post("/predict", b'{"tasks": [{"id": "\\udc00", "data": {"text": 5}}]}'), 400,
                               ["task \"\\udc00\"", "must be a string"]),
    "Content-Length abc": (post("/predict", b"{}", "abc"), 400, ["Content-Length"]),
    "Content-Length -1": (post("/predict", b"{}", "-1"), 400, ["Content-Length"]),
    "body over the limit": (post("/predict", b"", str(9 * 2**20)), 413, []),
    "not JSON": (post("/predict", b"{not json"), 400, ["not JSON"]),
    "invalid UTF-8": (post("/predict", b'{"tasks": "\xff"}'), 400, ["not JSON"]),
    "nested 100k deep": (post("/predict", b"[" * 100_000), 400, ["not JSON"]),
    "a 5000-digit number": (post("/predict", b'{"tasks": ' + b"9" * 5000 + b"}"), 400, ["not JSON"]),
    "a JSON array": (post("/predict", b"[]"), 400, ["JSON object"]),
    "tasks not a list": (post("/predict", b'{"tasks": "x"}'), 400, ["'tasks' must be a list"]),
    "task not an object": (post("/predict", b'{"tasks": [5]}'), 400, ["task #0", "'data'"]),
    "text a number": (post("/predict", b'{"tasks": [{"id": 3, "data": {"text": 5}}]}'), 400, ["task 3"]),
    "GET /predict": (b"GET /predict HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 405, ["POST"]),
    "POST /health": (post("/health", b"{}"), 405, ["GET"]),
    "unknown route": (b"GET /%ED%A0%80 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 404, ["no route"]),
    "unknown job": (b"GET /jobs/nope HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 404, ["unknown job"]),
    "garbage request line": (b"\x00\xff garbage\r\n\r\n", 400, []),
}


@pytest.mark.parametrize("name", CASES)
def test_client_mistakes_get_a_json_4xx(backend, name):
    request, status, words = CASES[name]
    got, headers, body = raw(backend, request)
    assert got == status, body
    assert headers["content-type"].startswith("application/json")
    error = json.loads(body)["error"]
    for w in words:
        assert w in error, error
    assert httpx.get(backend + "/health").json()["status"] == "UP"


def test_webhook_semantics_kept(backend):
    assert httpx.post(backend + "/webhook", json={"action": "PROJECT_UPDATED"}).json() == \
        {"status": "ignored", "action": "PROJECT_UPDATED"}
    assert httpx.post(backend + "/webhook", json={"action": [1]}).json()["status"] == "ignored"
    # no --label-studio-url: the job starts, answers at once, and fails with a reason on /jobs/<id>
    r = httpx.post(backend + "/webhook", json={"action": "START_TRAINING"})
    assert r.status_code == 201 and r.json()["state"] == "running"
    job = backend + "/jobs/" + r.json()["job"]
    deadline = time.time() + 120
    while (state := httpx.get(job).json())["state"] == "running" and time.time() < deadline:
        time.sleep(0.5)
    assert state["state"] == "failed" and "--label-studio-url" in state["error"]


def test_predictions_in_the_config_format(backend):
    from backend import model_version
    from labeling.ls_format import from_results
    config = (ROOT / "labeling" / "config.xml").read_text(encoding="utf-8")
    r = httpx.post(backend + "/predict", json={"tasks": [{"id": 1, "data": {"text": KAZAKH}}, {"data": {"text": ""}}],
                                               "label_config": config}, timeout=30)
    assert r.status_code == 200, r.text
    first, empty = r.json()["results"]
    assert first["model_version"] == model_version() != "unavailable"
    from labeling.tasks import Predictor  # one version string: what `labeling push` writes
    assert first["model_version"] == Predictor("model").model_version
    assert first["runner_up"] and 0 <= first["margin"] <= 1
    from kzclassify import Analyzer
    from labeling.ls_format import confidence, review_note
    a = Analyzer().analyze(KAZAKH)  # the same calibrated score and review reasons as the package gives
    assert first["score"] == round(confidence(a), 4) and 0 < first["score"] < 1
    assert (first["needs_review"], first["review"]) == (a.needs_review, review_note(a))
    ann = from_results(first["result"], KAZAKH)
    assert ann.release_type and ann.quotes[0].text == "Біз ынтымақтастықты дамытамыз"
    assert empty == {"result": [], "score": 0.0, "model_version": model_version(), "needs_review": True,
                     "review": "type: empty text"}
    # a lone surrogate in a task id is not echoed, so it does not stop the prediction
    r = httpx.post(backend + "/predict", content=b'{"tasks": [{"id": "\\ud800", "data": {"text": "\xd0\x90"}}]}',
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 200 and len(r.json()["results"]) == 1


def test_a_model_that_fails_to_load_is_503_and_health_answers(tmp_path):
    with backend_process(env={"KZCLASSIFY_MODEL_DIR": str(tmp_path / "nothing")}) as url:
        r = httpx.post(url + "/predict", json={"tasks": [{"data": {"text": KAZAKH}}]})
        assert r.status_code == 503 and "manifest not found" in r.json()["error"]
        assert httpx.get(url + "/health").json() == {"status": "UP", "model_class": "kzclassify",
                                                     "model_version": "unavailable"}
        assert httpx.post(url + "/setup", json={"schema": 5}).status_code == 400


def _predict_once(url: str) -> str | None:
    """One /predict on a new connection; None when it succeeded, else what went wrong."""
    try:
        r = httpx.post(url + "/predict", json={"tasks": [{"id": 1, "data": {"text": KAZAKH}}]}, timeout=30)
    except httpx.HTTPError as e:
        return type(e).__name__
    return None if r.status_code == 200 and len(r.json()["results"]) == 1 else f"HTTP {r.status_code}"


def test_200_requests_at_20_concurrent_all_answered(backend):
    with ThreadPoolExecutor(20) as ex:
        errors = [e for e in ex.map(lambda _: _predict_once(backend), range(200)) if e]
    assert errors == []


def _closed_by_server(s: socket.socket) -> bool:
    s.setblocking(False)
    try:
        return s.recv(1 << 16) == b""
    except BlockingIOError:
        return False  # still open, nothing sent
    except ConnectionResetError:
        return True
    finally:
        s.setblocking(True)


def test_health_answers_while_every_worker_is_busy():
    """One worker, busy with a long /predict: /health is answered while that request is still running."""
    from kzclassify.corpus import read_corpus
    text = max((r.text for r in read_corpus(ROOT / "data" / "akorda_kk.txt")), key=len)
    body = {"tasks": [{"id": i, "data": {"text": text}} for i in range(150)]}
    with backend_process("--threads", "1") as url, ThreadPoolExecutor(1) as ex:
        busy = ex.submit(httpx.post, url + "/predict", json=body, timeout=120)
        time.sleep(0.3)  # the predict is read and on the worker
        answered = []
        while not busy.done():
            r = httpx.get(url + "/health", timeout=60)
            assert r.status_code == 200 and r.json()["status"] == "UP"
            answered.append(busy.done())
            if len(answered) >= 3:
                break
        assert busy.result().status_code == 200
        assert answered and not any(answered), "no /health answer came while /predict was running"


def test_pipelined_predict_and_health_answer_in_order(backend):
    """One connection sends /predict, /health, /predict, /health back to back (HTTP/1.1 pipelining): the
    health lane and the workers take turns on it and the answers come back in the order asked."""
    import re
    body = json.dumps({"tasks": [{"id": 1, "data": {"text": KAZAKH}}]}).encode()
    predict = (f"POST /predict HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    health = b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n"
    last = b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    port = int(backend.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(predict + health + predict + last)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    bodies = [json.loads(b) for b in re.findall(rb"\r\n\r\n(\{.*?\})(?=HTTP/1\.1 |$)", data, re.S)]
    assert data.count(b"HTTP/1.1 200") == 4
    assert ["results" in b for b in bodies] == [True, False, True, False]
    assert bodies[1]["status"] == bodies[3]["status"] == "UP"


def test_stalled_clients_block_no_one_and_are_closed_after_the_timeout(backend):
    port = int(backend.rsplit(":", 1)[1])
    halves = [b"POST /predict HTTP/1.1\r\nHost: t\r\nContent-Le",  # stops inside the headers
              b"POST /predict HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{\"tasks\": ["]  # inside the body
    stalled = []
    for i in range(12):  # three times the worker threads
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(halves[i % 2])
        stalled.append(s)
    try:
        t0 = time.monotonic()
        with ThreadPoolExecutor(8) as ex:
            errors = [e for e in ex.map(lambda _: _predict_once(backend), range(40)) if e]
        served_in = time.monotonic() - t0
        assert errors == []
        if served_in < TIMEOUT:  # the others were answered while the stalled ones still held their sockets
            assert not any(_closed_by_server(s) for s in stalled)
        deadline = time.monotonic() + TIMEOUT + 10
        while not all(_closed_by_server(s) for s in stalled):
            assert time.monotonic() < deadline, "the server kept stalled connections open past its timeout"
            time.sleep(0.2)
    finally:
        for s in stalled:
            s.close()


def test_nothing_imports_backend_and_labeling_has_no_serve():
    for top in ("kzclassify", "labeling", "training"):
        for f in (ROOT / top).rglob("*.py"):
            for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
                assert not any(n == "backend" or n.startswith("backend.") for n in names), f
    out = subprocess.run([sys.executable, "-m", "labeling", "serve"], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 2 and "invalid choice" in out.stderr


def test_a_busy_port_is_a_one_line_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        out = subprocess.run([sys.executable, "-m", "backend", "--port", str(port)], cwd=ROOT, capture_output=True,
                             text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert out.returncode == 2 and out.stderr.startswith("error: cannot listen on") and "Traceback" not in out.stderr
