"""The built wheel, installed with no extras in a fresh venv, works from any directory."""
import json
import subprocess
import sys
import venv

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow
SAMPLE = "Мемлекет басшысы Жапония Премьер-министрімен телефон арқылы сөйлесті.\n– Жақсы, – деді Қасым-Жомарт Тоқаев."
FORBIDDEN = ["sklearn", "mlflow", "torch", "transformers", "datasets", "skl2onnx", "training", "labeling"]


def test_wheel_installs_and_runs_without_training_dependencies(tmp_path):
    dist = tmp_path / "dist"
    r = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "-o", str(dist), str(ROOT)],
                       capture_output=True, text=True)
    if r.returncode:  # no hatchling in this env: let build make its own isolated env
        r = subprocess.run([sys.executable, "-m", "build", "--wheel", "-o", str(dist), str(ROOT)],
                           capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    [whl] = dist.glob("kzclassify-*.whl")
    assert whl.stat().st_size < 5_000_000

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    r = subprocess.run([str(py), "-m", "pip", "install", "-q", str(whl)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    installed = subprocess.run([str(py), "-m", "pip", "list", "--format=json"], capture_output=True, text=True)
    names = {p["name"].lower() for p in json.loads(installed.stdout)}
    assert {"numpy", "onnxruntime", "kzclassify"} <= names
    assert not names & {"scikit-learn", "mlflow", "torch", "transformers", "datasets"}

    work = tmp_path / "elsewhere"
    work.mkdir()
    (work / "r.txt").write_text(SAMPLE, encoding="utf-8")
    cli = subprocess.run([str(env_dir / "bin" / "kzclassify"), "analyze", "r.txt"], cwd=work,
                         capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert cli.returncode == 0, cli.stderr
    rec = json.loads(cli.stdout)
    assert rec["release_type"]["label"] and rec["quotes"][0]["speaker"] == "Қасым-Жомарт Тоқаев"

    check = ("import sys, json, kzclassify; kzclassify.analyze(open('r.txt').read()); kzclassify.info(); "
             f"print(json.dumps([m for m in {FORBIDDEN!r} if m in sys.modules]))")
    out = subprocess.run([str(py), "-c", check], cwd=work, capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == []
    assert "site-packages" in json.loads(subprocess.run(
        [str(py), "-c", "import json, kzclassify; print(json.dumps(kzclassify.info()['model_dir']))"],
        cwd=work, capture_output=True, text=True).stdout)
