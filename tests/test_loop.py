"""The loop on the backend's side (issue 20): what starts a retraining, /jobs, and serving that follows a promotion.

The first tests run the real backend process without Label Studio (a job then fails at once, with its
reason, which is all a trigger test needs) and swap real model folders under it. The `loop` test drives
a real Label Studio server and the backend through retraining, promotion, a held-back challenger and a
rollback.
"""
import json
import shutil
import threading
import time
from pathlib import Path

import httpx
import pytest

from conftest import ROOT
from test_backend import KAZAKH, backend_process

PROJECT = {"id": 7, "title": "kz loop"}


def wait_job(url: str, job: str, timeout: float = 60) -> dict:
    deadline = time.time() + timeout
    while (state := httpx.get(f"{url}/jobs/{job}", timeout=10).json())["state"] == "running":
        assert time.time() < deadline, f"job {job} still running after {timeout:.0f} s: {state}"
        time.sleep(0.5)
    return state


def annotation(action="ANNOTATION_CREATED", project=PROJECT, **ann) -> dict:
    return {"action": action, "annotation": {"id": 1, "result": [], **ann}, "task": {"id": 1}, "project": project}


def test_triggers_counts_cooldown_and_jobs(tmp_path):
    """Annotation events are counted and start nothing; Start Training starts one job, answers with its id;
    a second press during the cooldown gets 429 with the reason; /jobs lists it; one log line at start and end."""
    log = tmp_path / "backend.log"
    with backend_process("--project", "7", "--cooldown", "30", log_to=log) as url:
        for body in (annotation(), annotation("ANNOTATION_UPDATED"),
                     {"action": "ANNOTATIONS_CREATED", "annotation": [{"id": 2}, {"id": 3, "was_cancelled": True}],
                      "project": PROJECT},
                     annotation(was_cancelled=True)):  # a skipped task is no submitted annotation
            r = httpx.post(url + "/webhook", json=body)
            assert r.status_code == 200 and r.json()["status"] == "counted", r.text
        other = httpx.post(url + "/webhook", json=annotation(project={"id": 8, "title": "kz other"}))
        assert other.json()["status"] == "ignored" and "project 7" in other.json()["reason"]
        jobs = httpx.get(url + "/jobs").json()
        assert jobs["jobs"] == [] and jobs["annotations_since_last_run"] == 3
        assert jobs["annotation_events"] == {"ANNOTATION_CREATED": 1, "ANNOTATIONS_CREATED": 1, "ANNOTATION_UPDATED": 1}

        # Start Training of another project's model card: refused (the card shows an error), nothing starts
        r = httpx.post(url + "/webhook", json={"action": "START_TRAINING", "project": {"id": 8, "title": "x"}})
        assert r.status_code == 409 and "project 7" in r.json()["error"]
        # this project's: a job (no Label Studio URL here, so it fails at once with the reason)
        r = httpx.post(url + "/webhook", json={"action": "START_TRAINING", "project": PROJECT})
        assert r.status_code == 201 and r.json()["state"] == "running" and r.json()["project"] == 7
        job = r.json()["job"]
        state = wait_job(url, job)
        assert state["state"] == "failed" and "--label-studio-url" in state["error"]
        assert state["trigger"].startswith("START_TRAINING") and state["finished_at"] and state["seconds"] >= 0

        r = httpx.post(url + "/train", json={"annotations": [], "project": "8.1700000000"})  # the legacy route
        assert r.status_code == 429 and "cooldown" in r.json()["error"] and 0 < r.json()["retry_after_s"] <= 30
        jobs = httpx.get(url + "/jobs").json()
        assert [j["job"] for j in jobs["jobs"]] == [job] and jobs["annotations_since_last_run"] == 0
        assert 0 < jobs["cooldown_left_s"] <= 30 and jobs["project"] == 7
    lines = log.read_text().splitlines()
    assert len([ln for ln in lines if f"job {job} started" in ln]) == 1
    assert len([ln for ln in lines if f"job {job} failed" in ln]) == 1
    assert "Traceback" not in log.read_text()


def test_retrain_every_n_annotations_and_one_job_at_a_time():
    with backend_process("--project", "kz loop", "--retrain-every", "3", "--cooldown", "0") as url:
        bodies = [annotation(), annotation("ANNOTATION_UPDATED")]
        assert [httpx.post(url + "/webhook", json=b).status_code for b in bodies] == [200, 200]
        r = httpx.post(url + "/webhook", json=annotation())
        assert r.status_code == 201 and r.json()["status"] == "training", r.text
        state = wait_job(url, r.json()["job"])
        assert state["trigger"] == "3 annotations (--retrain-every)" and state["state"] == "failed"
        assert httpx.get(url + "/jobs").json()["annotations_since_last_run"] == 0


def _folder_with_version(src: Path, dst: Path, tag: str) -> None:
    """A copy of the model folder whose manifests name another model version (the ONNX files unchanged)."""
    shutil.copytree(src, dst)
    for m in dst.glob("*/manifest.json"):
        manifest = json.loads(m.read_text(encoding="utf-8"))
        manifest["model_version"] = f"{manifest['model_version']}-{tag}"
        m.write_text(json.dumps(manifest), encoding="utf-8")


def test_serving_follows_the_model_folder_without_dropping_a_request(tmp_path):
    """The folder is replaced under a loaded backend (as promote/rollback does: a new folder renamed in) while
    four clients keep predicting: every request is answered, /health and the predictions carry the new
    version; a broken folder keeps the last good models serving, logged once; a fixed one is followed."""
    models = tmp_path / "models"
    shutil.copytree(ROOT / "models", models)
    log = tmp_path / "backend.log"
    with backend_process("--models-dir", str(models), "--reload-interval", "0.2", log_to=log) as url:
        first = httpx.get(url + "/health").json()["model_version"]
        assert first != "unavailable"
        stop, seen, errors = threading.Event(), set(), []

        def client():
            with httpx.Client(timeout=30) as c:
                while not stop.is_set():
                    r = c.post(url + "/predict", json={"tasks": [{"id": 1, "data": {"text": KAZAKH}}]})
                    if r.status_code != 200:
                        errors.append(r.text)
                    else:
                        seen.add(r.json()["results"][0]["model_version"])

        threads = [threading.Thread(target=client) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            time.sleep(1)
            _folder_with_version(ROOT / "models", tmp_path / "new", "b")
            models.rename(tmp_path / "old")
            (tmp_path / "new").rename(models)
            second = _wait_version(url, first)
            time.sleep(1)
        finally:
            stop.set()
            for t in threads:
                t.join()
        assert errors == [] and second == first.replace("+", "-b+") + "-b"
        assert seen == {first, second}
        setup = httpx.post(url + "/setup", json={"schema": (ROOT / "labeling" / "config.xml").read_text()})
        assert setup.json()["model_version"] == second

        # a broken folder (a model file that does not match its manifest): the last good models keep serving
        _folder_with_version(ROOT / "models", tmp_path / "broken", "c")
        onnx = tmp_path / "broken" / "quote_speaker" / "model.onnx"
        onnx.write_bytes(onnx.read_bytes()[:-1] + b"\0")
        shutil.rmtree(tmp_path / "old")
        models.rename(tmp_path / "old")
        (tmp_path / "broken").rename(models)
        time.sleep(1.5)
        assert httpx.get(url + "/health").json()["model_version"] == second
        assert httpx.post(url + "/predict", json={"tasks": [{"data": {"text": KAZAKH}}]}).status_code == 200
        # fixed: followed again
        onnx = models / "quote_speaker" / "model.onnx"
        shutil.copy(ROOT / "models" / "quote_speaker" / "model.onnx", onnx)
        for m in models.glob("*/manifest.json"):
            m.touch()
        assert _wait_version(url, second) == first.replace("+", "-c+") + "-c"
    text = log.read_text()
    assert text.count("does not load") == 1 and "sha256" in text
    assert text.count("now serving") == 2


def _wait_version(url: str, old: str, timeout: float = 20) -> str:
    deadline = time.time() + timeout
    while (v := httpx.get(url + "/health").json()["model_version"]) == old:
        assert time.time() < deadline, f"the backend still serves {old} after {timeout:.0f} s"
        time.sleep(0.1)
    return v
