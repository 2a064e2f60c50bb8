"""Issue 22, "let no one in": each finding as an attacker on the same network saw it, now refused.

Backend tests run the real ``python -m backend`` on 127.0.0.1 (test_backend.backend_process); the
Label Studio test (marked ``server``) connects a real Label Studio 1.23.2 with Basic auth.
"""
import base64
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conftest import ROOT
from test_backend import KAZAKH, backend_process, post, raw

USER, PASSWORD = "ls-backend", "s3cret pass:with colon"
AUTH = {"BASIC_AUTH_USER": USER, "BASIC_AUTH_PASS": PASSWORD}
GOOD = (USER, PASSWORD)
START_TRAINING = {"action": "START_TRAINING", "project": {"title": "someone else's project"}}


def backend_pid(url: str) -> int:
    """The pid of the `python -m backend` listening on ``url``'s port (read from /proc)."""
    port = url.rsplit(":", 1)[1]
    for d in Path("/proc").iterdir():
        try:
            cmd = (d / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"backend" in cmd and port.encode() in cmd and d.name.isdigit():
            return int(d.name)
    raise AssertionError(f"no backend process for {url}")


@pytest.fixture(scope="module")
def guarded():
    with backend_process(env=AUTH) as url:
        yield url


# --- authentication -------------------------------------------------------------------------------

@pytest.mark.parametrize("method,path,body", [
    ("POST", "/webhook", START_TRAINING),
    ("POST", "/predict", {"tasks": [{"id": 1, "data": {"text": KAZAKH}}]}),
    ("POST", "/setup", {"schema": ""}),
    ("GET", "/jobs/anything", None),
])
@pytest.mark.parametrize("auth", [None, (USER, "wrong"), ("other", PASSWORD), (USER, PASSWORD + "x")])
def test_every_route_needs_the_credentials(guarded, method, path, body, auth):
    r = httpx.request(method, guarded + path, json=body, auth=auth)
    assert r.status_code == 401, r.text
    assert r.headers["www-authenticate"].startswith("Basic realm=")
    assert "error" in r.json()


def test_the_right_credentials_get_in_and_a_webhook_without_them_starts_nothing(guarded):
    r = httpx.post(guarded + "/predict", json={"tasks": [{"id": 1, "data": {"text": KAZAKH}}]}, auth=GOOD)
    assert r.status_code == 200 and r.json()["results"][0]["model_version"]
    assert httpx.get(guarded + "/jobs/nope", auth=GOOD).status_code == 404
    # a malformed Authorization header is a 401, not a 400 or a 500
    for header in ("Basic !!!", "Basic " + base64.b64encode(b"no-colon").decode(), "Bearer x", "Basic"):
        assert httpx.post(guarded + "/webhook", json=START_TRAINING, headers={"Authorization": header}).status_code == 401


def test_anonymous_health_says_only_up(guarded):
    anonymous = httpx.get(guarded + "/health")
    assert anonymous.status_code == 200 and anonymous.json() == {"status": "UP"}
    assert httpx.get(guarded + "/").json() == {"status": "UP"}
    full = httpx.get(guarded + "/health", auth=GOOD).json()
    assert full["status"] == "UP" and full["model_version"] and full["model_class"] == "kzclassify"


@pytest.mark.parametrize("env,words", [({}, ["refusing to listen on 0.0.0.0", "BASIC_AUTH_USER"]),
                                       ({"BASIC_AUTH_USER": "u"}, ["BASIC_AUTH_PASS"])])
def test_a_reachable_address_without_credentials_is_refused(env, words):
    full = {k: v for k, v in os.environ.items() if k not in AUTH}
    r = subprocess.run([sys.executable, "-m", "backend", "--host", "0.0.0.0", "--port", "0"], cwd=ROOT,
                       env={**full, "PYTHONPATH": str(ROOT), **env}, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and all(w in r.stderr for w in words), r.stderr


# --- cross-site requests and JSON only --------------------------------------------------------------

def test_a_cross_site_text_plain_post_is_refused(guarded):
    """What a page open in a newsroom browser can send to 127.0.0.1 without a CORS preflight."""
    body = json.dumps(START_TRAINING)
    r = httpx.post(guarded + "/webhook", content=body, auth=GOOD,
                   headers={"Content-Type": "text/plain", "Origin": "https://evil.example"})
    assert r.status_code == 403 and "cross-site" in r.json()["error"]
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None):
        r = httpx.post(guarded + "/webhook", content=body, auth=GOOD,
                       headers={"Content-Type": ctype} if ctype else {})
        assert r.status_code == 415 and "application/json" in r.json()["error"], (ctype, r.text)
    # a JSON POST from another site is refused too; one naming this server's own origin is not
    r = httpx.post(guarded + "/predict", json={"tasks": []}, auth=GOOD, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    r = httpx.post(guarded + "/predict", json={"tasks": []}, auth=GOOD, headers={"Origin": guarded})
    assert r.status_code == 200
    assert httpx.post(guarded + "/predict", json={"tasks": []}, auth=GOOD,
                      headers={"Content-Type": "application/json; charset=utf-8"}).status_code == 200


# --- bounds ------------------------------------------------------------------------------------------

def test_200000_tiny_tasks_are_refused_at_once(guarded):
    """6.6 MB of tiny tasks used to take 57 s and answer 125 MB."""
    body = json.dumps({"tasks": [{"id": i, "data": {"text": "а"}} for i in range(200_000)]}, ensure_ascii=False).encode()
    assert len(body) < 8 * 2**20  # within the body limit: the task limit refuses it
    r = httpx.post(guarded + "/predict", content=body, auth=GOOD, headers={"Content-Type": "application/json"},
                   timeout=30)
    assert r.status_code == 413 and "200,000 tasks" in r.json()["error"] and "--max-tasks" in r.json()["error"]


def test_too_many_characters_in_one_request_is_413():
    with backend_process("--max-chars", "100000") as url:
        tasks = [{"id": i, "data": {"text": "а" * 40_000}} for i in range(3)]
        r = httpx.post(url + "/predict", json={"tasks": tasks})
        assert r.status_code == 413 and "120,000 characters" in r.json()["error"] and "--max-chars" in r.json()["error"]
        assert httpx.post(url + "/predict", json={"tasks": tasks[:2]}, timeout=120).status_code == 200


def test_default_body_limit_is_8_mib(guarded):
    status, _, body = raw(guarded, post("/predict", b"", str(8 * 2**20 + 1)))
    assert status == 413 and "--max-body-mb" in json.loads(body)["error"]


def test_a_request_past_its_deadline_answers_503(corpus_texts):
    tasks = [{"id": i, "data": {"text": t}} for i, t in enumerate(corpus_texts[:300])]
    with backend_process("--deadline", "1") as url:
        r = httpx.post(url + "/predict", json={"tasks": tasks}, timeout=120)
    err = r.json()["error"]
    assert r.status_code == 503 and "--deadline" in err
    done = int(re.search(r"after (\d+) of 300 tasks", err).group(1))
    assert 0 < done < 300  # stopped between two tasks, not run to the end


def test_a_request_that_trickles_in_is_closed_at_the_request_timeout():
    """One header line every 0.5 s keeps a connection active forever under an idle timeout alone."""
    with backend_process("--request-timeout", "2") as url:
        port = int(url.rsplit(":", 1)[1])
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        s.sendall(b"POST /predict HTTP/1.1\r\nHost: t\r\n")
        answer, t0 = b"", time.time()
        s.settimeout(0.5)
        while time.time() - t0 < 15:
            try:
                s.sendall(f"X-Slow-{int((time.time() - t0) * 10)}: 1\r\n".encode())
                chunk = s.recv(65536)
                if not chunk:
                    break
                answer += chunk
            except TimeoutError:
                continue
            except OSError:  # reset after the answer
                break
        s.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"--request-timeout" in answer and time.time() - t0 < 15


def test_200_slow_clients_leave_health_answering(guarded):
    """The issue's slow-client run: 200 connections each sending one header line every few seconds."""
    port = int(guarded.rsplit(":", 1)[1])
    socks = []
    try:
        for _ in range(200):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(b"POST /predict HTTP/1.1\r\nHost: t\r\n")
            socks.append(s)
        for round_ in range(3):
            for s in socks:
                try:
                    s.sendall(f"X-Slow-{round_}: 1\r\n".encode())
                except OSError:
                    pass
            r = httpx.get(guarded + "/health", timeout=5)  # the old server: 200 = its connection limit, no answer
            assert r.status_code == 200 and r.json() == {"status": "UP"}
            time.sleep(1)
    finally:
        for s in socks:
            s.close()


def _spooled(pid: int, tmp: Path) -> list[str]:
    """Temporary files the process holds open under ``tmp`` (waitress unlinks them at once: read /proc)."""
    out = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(tmp)):
            out.append(target)
    return out


def _half_sent(port: int, length: int, sent: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(f"POST /predict HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
              f"Content-Length: {length}\r\n\r\n".encode() + b" " * sent)
    return s


def test_half_sent_bodies_are_not_spooled_to_disk(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    with backend_process(env={"TMPDIR": str(tmp)}) as url:
        pid, port = backend_pid(url), int(url.rsplit(":", 1)[1])
        socks = [_half_sent(port, 6 * 2**20, 3 * 2**20) for _ in range(5)]
        time.sleep(2)
        try:
            assert _spooled(pid, tmp) == []
        finally:
            for s in socks:
                s.close()


def test_requests_held_by_the_server_are_bounded():
    """Past --max-pending-mb of bodies being received, a further one is answered 503 and closed."""
    with backend_process("--max-body-mb", "1", "--max-pending-mb", "2") as url:
        port = int(url.rsplit(":", 1)[1])
        socks = [_half_sent(port, 1_000_000, 900_000) for _ in range(2)]
        time.sleep(0.5)
        third = _half_sent(port, 1_000_000, 900_000)
        third.settimeout(10)
        answer = b""
        try:
            while chunk := third.recv(65536):
                answer += chunk
        except OSError:
            pass
        for s in [*socks, third]:
            s.close()
        assert answer.startswith(b"HTTP/1.1 503") and b"--max-pending-mb" in answer, answer[:300]
        time.sleep(0.5)
        # the closed connections gave their bytes back: a whole request fits again
        assert httpx.post(url + "/predict", json={"tasks": [{"id": 1, "data": {"text": KAZAKH}}]}).status_code == 200


def test_bad_bound_flags_are_one_line_errors():
    r = subprocess.run([sys.executable, "-m", "backend", "--max-pending-mb", "8", "--max-body-mb", "8"], cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "--max-pending-mb" in r.stderr


# --- model folders -----------------------------------------------------------------------------------

LABELS = ["award", "ceremony", "event", "meeting", "other", "phone_call", "telegram", "visit"]


def _sha(data: bytes) -> str:
    import hashlib
    return hashlib.sha256(data).hexdigest()


def _transformer_onnx() -> bytes:
    """A tiny graph with the transformer-classifier interface: (input_ids, attention_mask) → logits."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper
    w = numpy_helper.from_array(np.arange(len(LABELS), dtype=np.float32).reshape(1, -1), "W")
    nodes = [helper.make_node("Cast", ["input_ids"], ["ids_f"], to=TensorProto.FLOAT),
             helper.make_node("ReduceSum", ["ids_f"], ["total"], keepdims=1),
             helper.make_node("Cast", ["attention_mask"], ["mask_f"], to=TensorProto.FLOAT),
             helper.make_node("ReduceSum", ["mask_f"], ["n"], keepdims=1),
             helper.make_node("Div", ["total", "n"], ["mean"]),
             helper.make_node("MatMul", ["mean", "W"], ["logits"])]
    g = helper.make_graph(nodes, "t", [helper.make_tensor_value_info("input_ids", TensorProto.INT64, [None, None]),
                                       helper.make_tensor_value_info("attention_mask", TensorProto.INT64, [None, None])],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [None, len(LABELS)])], [w])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 11)])
    m.ir_version = 8
    return m.SerializeToString()


def _tokenizer_json(vocab_words=("[PAD]", "[UNK]", "мемлекет", "басшысы")) -> bytes:
    from tokenizers import Tokenizer, models, pre_tokenizers
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(vocab_words)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return tok.to_str().encode()


def transformer_folder(root: Path, **fields) -> Path:
    """``root/release_type`` holding a transformer model (shipped quote_speaker beside it); its path."""
    import shutil
    shutil.copytree(ROOT / "models" / "quote_speaker", root / "quote_speaker")
    d = root / "release_type"
    d.mkdir(parents=True)
    onnx_bytes, tok = _transformer_onnx(), _tokenizer_json()
    (d / "model.onnx").write_bytes(onnx_bytes)
    (d / "tokenizer.json").write_bytes(tok)
    manifest = {"format_version": 1, "file": "model.onnx", "sha256": _sha(onnx_bytes), "name": "release_type",
                "kind": "transformer-classifier", "labels": LABELS, "model_version": "test-transformer/1",
                "tokenizer": "tokenizer.json", "tokenizer_sha256": _sha(tok), "max_length": 16, "pad_id": 0,
                **fields}
    (d / "manifest.json").write_text(json.dumps({k: v for k, v in manifest.items() if v is not None}))
    return d


def test_a_transformer_folder_loads_its_checked_tokenizer(tmp_path):
    import kzclassify
    transformer_folder(tmp_path, trained_by={"note": "a key the loader does not know"})  # unknown keys are allowed
    rt = kzclassify.Analyzer(tmp_path).classify("Мемлекет басшысы кездесті")
    assert rt.label in LABELS and abs(sum(rt.scores.values()) - 1) < 1e-5


@pytest.mark.parametrize("name", ["../../../../etc/passwd", "/etc/passwd", "..", "sub/tokenizer.json"])
def test_a_manifest_cannot_name_a_file_outside_its_folder(tmp_path, name):
    """The issue: a `tokenizer` of ../../../../etc/passwd passed load() and was opened by classify."""
    import kzclassify
    passwd = Path("/etc/passwd").read_bytes()
    transformer_folder(tmp_path, tokenizer=name, tokenizer_sha256=_sha(passwd))
    with pytest.raises(kzclassify.ModelError, match="tokenizer.*file name"):
        kzclassify.Analyzer(tmp_path).load()


@pytest.mark.parametrize("which", ["model.onnx", "tokenizer.json"])
def test_a_symlink_out_of_the_folder_is_refused(tmp_path, which):
    import kzclassify
    d = transformer_folder(tmp_path / "models")
    outside = tmp_path / f"outside-{which}"
    (d / which).rename(outside)  # same bytes, same sha256: only the link's target is wrong
    (d / which).symlink_to(outside)
    with pytest.raises(kzclassify.ModelError, match="leads out of the model folder"):
        kzclassify.Analyzer(tmp_path / "models").load()
    (d / which).unlink()
    (d / which).symlink_to(outside.name.replace("outside-", "") + ".real")  # a link inside the folder is fine
    outside.rename(d / (which + ".real"))
    kzclassify.Analyzer(tmp_path / "models").load()


def test_the_tokenizer_is_hashed(tmp_path):
    import kzclassify
    d = transformer_folder(tmp_path)
    (d / "tokenizer.json").write_bytes(_tokenizer_json(("[PAD]", "[UNK]", "басшысы", "мемлекет")))
    with pytest.raises(kzclassify.ModelError, match="tokenizer.json: sha256 .* does not match"):
        kzclassify.Analyzer(tmp_path).load()
    manifest = json.loads((d / "manifest.json").read_text())
    del manifest["tokenizer_sha256"]
    (d / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(kzclassify.ModelError, match="tokenizer_sha256"):
        kzclassify.Analyzer(tmp_path).load()


@pytest.mark.parametrize("field,value", [("max_length", 10**12), ("max_length", 0), ("max_length", "256"),
                                         ("max_length", True), ("max_length", None), ("pad_id", -1),
                                         ("pad_id", 2**40), ("pad_id", 1.5)])
def test_numeric_manifest_fields_are_bounded(tmp_path, field, value):
    import kzclassify
    transformer_folder(tmp_path, **{field: value})
    with pytest.raises(kzclassify.ModelError, match=field):
        kzclassify.Analyzer(tmp_path).load()


def _ranker_with_external_weights(d: Path) -> None:
    """A mention-ranker whose weights live in weights.bin beside model.onnx (ONNX external data)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    w = numpy_helper.from_array(np.ones((3, 2), np.float32), "W")
    g = helper.make_graph([helper.make_node("MatMul", ["features", "W"], ["logits"]),
                           helper.make_node("ArgMax", ["logits"], ["label"], axis=1, keepdims=0),
                           helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1)], "r",
                          [helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, 3])],
                          [helper.make_tensor_value_info("label", TensorProto.INT64, [None]),
                           helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 2])], [w])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    d.mkdir(parents=True)
    onnx.save_model(m, str(d / "model.onnx"), save_as_external_data=True, location="weights.bin", size_threshold=0)
    (d / "manifest.json").write_text(json.dumps({
        "format_version": 1, "file": "model.onnx", "sha256": _sha((d / "model.onnx").read_bytes()),
        "kind": "mention-ranker", "labels": ["other", "speaker"], "model_version": "ext/1"}))


def test_onnx_external_data_is_refused(tmp_path, monkeypatch):
    """The issue: replacing the unhashed external-data side file changed scores, the sha256 check passing."""
    from kzclassify._model import ModelError, load_model
    _ranker_with_external_weights(tmp_path / "quote_speaker")
    with pytest.raises(ModelError, match="external data"):
        load_model("quote_speaker", tmp_path)
    monkeypatch.chdir(tmp_path / "quote_speaker")  # nor from the working directory, where bytes would look
    with pytest.raises(ModelError, match="external data"):
        load_model("quote_speaker", tmp_path)


def _opens(path: Path, action) -> int:
    """How many times ``path`` is opened (by Python or by C++ code) while ``action()`` runs (Linux inotify)."""
    import ctypes
    import select
    import struct
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init1(os.O_NONBLOCK)
    assert fd >= 0
    try:
        # IN_OPEN | IN_CLOSE_NOWRITE: inotify merges identical consecutive events, so two opens
        # without the closes between them would count as one
        assert libc.inotify_add_watch(fd, str(path).encode(), 0x20 | 0x10) >= 0
        action()
        n = 0
        while select.select([fd], [], [], 0.2)[0]:
            buf = os.read(fd, 65536)
            off = 0
            while off < len(buf):
                _, mask, _, length = struct.unpack_from("iIII", buf, off)
                n += bool(mask & 0x20)
                off += 16 + length
        return n
    finally:
        os.close(fd)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify")
def test_the_bytes_hashed_are_the_bytes_loaded(tmp_path):
    """The model file is opened once: hashed and handed to ONNX Runtime as bytes (no reopening by path,
    where a swapped file would be loaded unchecked)."""
    import shutil

    from kzclassify._model import load_model
    shutil.copytree(ROOT / "models" / "release_type", tmp_path / "release_type")
    assert _opens(tmp_path / "release_type" / "model.onnx", lambda: load_model("release_type", tmp_path)) == 1


# --- stores --------------------------------------------------------------------------------------------

@pytest.fixture
def store_uri(tmp_path):
    import mlflow
    from training import tracking
    before = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    tracking.setup("security-test", tmp_path / "store")
    yield
    mlflow.set_tracking_uri(before[0])
    mlflow.set_registry_uri(before[1])


@pytest.mark.slow
def test_export_loads_only_skops_models_with_the_repositorys_trusted_types(store_uri):
    """mlflow.sklearn.load_model obeys the trusted-types list stored with the model; export does not."""
    import mlflow
    import numpy as np
    import skops.io
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from training.trusted import UntrustedModel, load_sklearn
    x, y = np.arange(20, dtype=float).reshape(10, 2), np.array([0, 1] * 5)
    req = {"pip_requirements": ["scikit-learn"]}  # no requirement inference: it takes minutes here
    good = mlflow.sklearn.log_model(LogisticRegression().fit(x, y), name="good", **req)
    assert (load_sklearn(good.model_uri).predict(x) == LogisticRegression().fit(x, y).predict(x)).all()

    evil_est = make_pipeline(FunctionTransformer(os.system), LogisticRegression())
    import tempfile
    with tempfile.TemporaryDirectory() as td:
        skops.io.dump(evil_est, Path(td) / "m.skops")
        evil_types = skops.io.get_untrusted_types(file=Path(td) / "m.skops")
    evil = mlflow.sklearn.log_model(evil_est, name="evil", skops_trusted_types=evil_types, **req)
    assert mlflow.sklearn.load_model(evil.model_uri).steps[0][1].func is os.system  # the store said "trust it"
    with pytest.raises(UntrustedModel, match="does not trust: .*system"):
        load_sklearn(evil.model_uri)

    pickled = mlflow.sklearn.log_model(LogisticRegression().fit(x, y), name="pickled",
                                    serialization_format="pickle", **req)
    with pytest.raises(UntrustedModel, match="pickle"):
        load_sklearn(pickled.model_uri)


def test_score_overwrite_never_deletes_what_it_did_not_write(tmp_path):
    """The issue: `training score --output DIR --overwrite` deleted a directory holding annotations/export.json."""
    victim = tmp_path / "annotations"
    victim.mkdir()
    (victim / "export.json").write_text("[]")
    other = tmp_path / "someone.parquet"
    import pandas as pd
    pd.DataFrame({"a": [1]}).to_parquet(other)
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "1", "text": KAZAKH}, ensure_ascii=False) + "\n", encoding="utf-8")
    for out in (victim, other):
        for engine in ("local", "spark"):
            r = subprocess.run([sys.executable, "-m", "training", "score", "--store", str(tmp_path / "store"),
                                "--input", str(src), "--output", str(out), "--engine", engine, "--overwrite", "-q"],
                               capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                               timeout=300)
            assert r.returncode == 2 and "not written by `training score`" in r.stderr, r.stderr[-2000:]
            assert "Traceback" not in r.stderr
    assert (victim / "export.json").read_text() == "[]" and pd.read_parquet(other)["a"].tolist() == [1]


# --- Label Studio with Basic auth ----------------------------------------------------------------------

@pytest.mark.server
def test_label_studio_connects_with_basic_auth(server, monkeypatch):
    """Label Studio 1.23.2 (SSRF protection on, only ML_BLOCK_LOCAL_IP off) reaches the guarded backend with
    the model connection's Basic credentials: set-up, predictions, and the training call; nobody else does."""
    from lsserver import TOKEN

    from backend import model_version
    from labeling.client import connect, ensure_project

    monkeypatch.setenv("LABEL_STUDIO_API_KEY", TOKEN)
    h = {"Authorization": f"Token {TOKEN}"}
    client = connect(server, TOKEN)
    project = ensure_project(client, "kz guarded backend")
    client.projects.import_tasks(project.id, request=[{"data": {"text": KAZAKH}}, {"data": {"text": KAZAKH[:60]}}])
    with backend_process(env=AUTH) as url:
        # without the credentials Label Studio cannot connect the model (its set-up call is refused)
        r = httpx.post(f"{server}/api/ml", headers=h, json={"url": url, "project": project.id, "title": "anon"})
        assert r.status_code >= 400, r.text
        r = httpx.post(f"{server}/api/ml", headers=h, json={
            "url": url, "project": project.id, "title": "kzclassify", "auth_method": "BASIC_AUTH",
            "basic_auth_user": USER, "basic_auth_pass": PASSWORD})
        assert r.status_code == 201, r.text
        ml_id = r.json()["id"]
        r = httpx.post(f"{server}/api/dm/actions", params={"id": "retrieve_tasks_predictions", "project": project.id},
                       headers=h, json={"selectedItems": {"all": True, "excluded": []}}, timeout=300)
        assert r.status_code == 200, r.text
        preds = [p if isinstance(p, dict) else p.dict()
                 for t in client.tasks.list(project=project.id, fields="all") for p in (t.predictions or [])]
        assert len(preds) == 2 and {p["model_version"] for p in preds} == {model_version()}
        # Label Studio's "start training" sends the credentials to /webhook too
        r = httpx.post(f"{server}/api/ml/{ml_id}/train", headers=h, json={}, timeout=60)
        assert r.status_code in (200, 201), r.text
        # a webhook from anyone else is refused
        r = httpx.post(url + "/webhook", json=START_TRAINING)
        assert r.status_code == 401


def test_ssrf_banned_subnets_open_only_the_backend_address():
    import ipaddress

    from labeling.ssrf import DEFAULT_BANNED, banned_subnets
    banned = [ipaddress.ip_network(n) for n in banned_subnets("127.0.0.1")]
    assert not any(ipaddress.ip_address("127.0.0.1") in n for n in banned)
    for ip in ("127.0.0.2", "127.255.255.255", "::1", "10.0.0.1", "169.254.169.254", "192.168.1.1", "fe80::1"):
        assert any(ipaddress.ip_address(ip) in n for n in banned), ip
    # the same list as Label Studio's own default (read from its source where it is installed)
    from lsserver import binary
    exe = binary()
    src = next(Path(exe).resolve().parent.parent.glob("lib/python3*/site-packages/label_studio/core/utils/io.py"),
               None) if exe else None
    if src is None:
        pytest.skip("Label Studio is not installed")
    text = src.read_text()
    start = text.index("default_banned_subnets = [")
    listed = re.findall(r"'([0-9a-f:.]+/\d+)'", text[start:text.index("]", start)])
    assert tuple(listed) == DEFAULT_BANNED
