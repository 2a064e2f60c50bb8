"""The end-to-end pyfunc: registered from the shipped models, served by a real
``mlflow models serve`` on 127.0.0.1, and loaded from the registry in a fresh venv;
every answer must equal ``kzclassify.analyze``."""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import venv
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow
MODEL = "models:/kzclassify@champion"
EDGE = ["", "The President met the Prime Minister of Japan in Astana."]
PORTS = range(5016, 5020)


@pytest.fixture(scope="module")
def registered(tmp_path_factory):
    """A temporary MLflow store holding the kzclassify pyfunc (alias champion), built from this repo."""
    import mlflow
    from training.pyfunc import register_pyfunc
    before = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    store = tmp_path_factory.mktemp("store")
    r = register_pyfunc(store=store)  # points MLflow at the temporary store
    yield r, f"sqlite:///{store / 'mlflow.db'}"
    mlflow.set_tracking_uri(before[0])
    mlflow.set_registry_uri(before[1])


@pytest.fixture(scope="module")
def expected(corpus_texts):
    import kzclassify
    return [kzclassify.analyze(t).to_dict() for t in corpus_texts + EDGE]


def _env(uri: str, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    # the server execs uvicorn from PATH: this venv's bin first
    env.update(MLFLOW_TRACKING_URI=uri, PYTHONPATH=str(ROOT), MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR="false",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}", **extra)
    return env


def test_registered_model_records_wheel_and_model_sha256(registered):
    import mlflow
    import kzclassify
    r, _ = registered
    info = mlflow.models.get_model_info(MODEL)
    meta = info.metadata
    installed = kzclassify.info()["models"]
    assert meta["models"].keys() == {"release_type", "quote_speaker"}
    for name, m in meta["models"].items():
        assert m["sha256"] == installed[name]["sha256"] == r.model_sha256[name]
    assert meta["wheel"]["sha256"] == r.wheel_sha256
    assert [c.name for c in info.signature.inputs.inputs] == ["text", "date"]  # date: optional, who the president was
    assert info.signature.outputs.input_names() == list(kzclassify.analyze("").to_dict())
    # the wheel logged with the model is the one named in its requirements, byte for byte
    local = Path(mlflow.artifacts.download_artifacts(MODEL))
    reqs = (local / "requirements.txt").read_text().split()
    [whl] = [q for q in reqs if q.endswith(".whl")]
    import hashlib
    assert hashlib.sha256((local / whl).read_bytes()).hexdigest() == r.wheel_sha256


def _free_port() -> int:
    for p in PORTS:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", p)):
                return p
    pytest.fail(f"no free port in {PORTS}")


def _post(url: str, payload: dict) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


@pytest.fixture(scope="module")
def server(registered, tmp_path_factory):
    _, uri = registered
    port = _free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    mlflow_bin = Path(sys.executable).parent / "mlflow"
    with open(log, "w") as fh:
        proc = subprocess.Popen([str(mlflow_bin), "models", "serve", "-m", MODEL, "--env-manager", "local",
                                 "-h", "127.0.0.1", "-p", str(port), "-w", "1"],
                                env=_env(uri), stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 180
        while True:
            try:
                with urllib.request.urlopen(url + "/ping", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                pytest.fail(f"mlflow models serve did not come up:\n{log.read_text()[-3000:]}")
            time.sleep(1)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 15)
            proc.wait(timeout=30)


def test_served_invocations_equal_analyze_on_the_corpus(server, corpus_texts, expected):
    texts = corpus_texts + EDGE
    status, body = _post(server + "/invocations",
                         {"dataframe_split": {"columns": ["text"], "data": [[t] for t in texts]}})
    assert status == 200, body
    got = body["predictions"]
    assert len(got) == len(texts)
    bad = [i for i, (g, e) in enumerate(zip(got, expected)) if g != e]
    assert not bad, (len(bad), got[bad[0]], expected[bad[0]])
    assert any(g["quotes"] for g in got) and got[-1]["warnings"] and got[-2]["release_type"]["label"] is None


def test_served_records_input_and_bad_requests(server, corpus_texts, expected):
    status, body = _post(server + "/invocations", {"dataframe_records": [{"text": corpus_texts[0]}]})
    assert status == 200 and body["predictions"] == [expected[0]]
    status, body = _post(server + "/invocations", {"dataframe_records": [{"body": "x"}]})
    assert status == 400 and "text" in body["message"]
    status, body = _post(server + "/invocations", {"dataframe_split": {"columns": ["text"], "data": [[None]]}})
    assert status == 400 and "text" in body["message"]


def test_load_refuses_other_models(registered, tmp_path, monkeypatch):
    """A kzclassify whose ONNX models differ from the registered sha256s is refused at load."""
    import mlflow
    from kzclassify import ModelError
    other = tmp_path / "models"
    shutil.copytree(ROOT / "models", other)
    mf = json.loads((other / "release_type" / "manifest.json").read_text())
    data = bytearray((other / "release_type" / mf["file"]).read_bytes())
    data += b"\0"  # a different file, with a manifest that vouches for it
    (other / "release_type" / mf["file"]).write_bytes(data)
    import hashlib
    mf["sha256"] = hashlib.sha256(data).hexdigest()
    (other / "release_type" / "manifest.json").write_text(json.dumps(mf))
    monkeypatch.setenv("KZCLASSIFY_MODEL_DIR", str(other))  # read by the Analyzer the model builds at load
    with pytest.raises(ModelError, match="release_type.*not the registered"):
        mlflow.pyfunc.load_model(MODEL)


FRESH = """
import json, sys, mlflow, pandas, kzclassify
m = mlflow.pyfunc.load_model(sys.argv[1])
texts = json.load(open(sys.argv[2], encoding="utf-8"))
out = m.predict(pandas.DataFrame({"text": texts}))
print(json.dumps({"kzclassify": kzclassify.__file__, "info": kzclassify.info()["models"],
                  "predictions": out.to_dict(orient="records")}, ensure_ascii=False))
"""


def test_load_model_in_a_fresh_venv_gives_analyze_results(registered, corpus_texts, expected, tmp_path):
    """`pip install -r requirements.txt` of the registered model (mlflow + the logged wheel) into a new venv."""
    import mlflow
    r, uri = registered
    local = Path(mlflow.artifacts.download_artifacts(MODEL, dst_path=str(tmp_path / "model")))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    clean = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"), "MLFLOW_TRACKING_URI": uri}
    pip = subprocess.run([str(py), "-m", "pip", "install", "-q", "-r", "requirements.txt"], cwd=local,
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ""})
    assert pip.returncode == 0, pip.stderr[-3000:]
    texts = corpus_texts + EDGE
    (tmp_path / "texts.json").write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "fresh.py").write_text(FRESH, encoding="utf-8")
    out = subprocess.run([str(py), "fresh.py", MODEL, "texts.json"], cwd=tmp_path, capture_output=True,
                         text=True, env=clean)
    assert out.returncode == 0, out.stderr[-3000:]
    res = json.loads(out.stdout)
    assert str(env_dir) in res["kzclassify"] and "site-packages" in res["kzclassify"]
    assert {n: m["sha256"] for n, m in res["info"].items()} == r.model_sha256
    bad = [i for i, (g, e) in enumerate(zip(res["predictions"], expected)) if g != e]
    assert len(res["predictions"]) == len(texts) and not bad, (len(bad), bad[:3])


def test_cli_registers_a_new_version_from_a_given_wheel(registered, tmp_path):
    """`python -m training pyfunc --wheel W` logs W as is and moves the alias (runs last: champion moves)."""
    import mlflow
    r, uri = registered
    local = Path(mlflow.artifacts.download_artifacts(MODEL, dst_path=str(tmp_path / "m")))
    [whl] = (local / "artifacts").glob("kzclassify-*.whl")
    store = uri[len("sqlite:///"):].rsplit("/", 1)[0]
    env = _env(uri)
    del env["MLFLOW_TRACKING_URI"]  # --store says where
    out = subprocess.run([sys.executable, "-m", "training", "pyfunc", "--store", store, "--wheel", str(whl)],
                         capture_output=True, text=True, env=env, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    assert f"sha256 {r.wheel_sha256}" in out.stdout
    mv = mlflow.MlflowClient().get_model_version_by_alias("kzclassify", "champion")
    assert int(mv.version) >= 2 and mv.tags["wheel_sha256"] == r.wheel_sha256
    bad = subprocess.run([sys.executable, "-m", "training", "pyfunc", "--store", store, "--wheel",
                          str(tmp_path / "nope.whl")], capture_output=True, text=True, env=env, cwd=ROOT)
    assert bad.returncode == 2 and "nope.whl" in bad.stderr and "Traceback" not in bad.stderr
