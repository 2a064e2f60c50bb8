"""The loop on the backend's side (issue 20): what starts a retraining, /jobs, and serving that follows a promotion.

The first tests run the real backend process without Label Studio (a job then fails at once, with its
reason, which is all a trigger test needs) and swap real model folders under it. The `loop` test drives
a real Label Studio server and the backend through retraining, promotion, a held-back challenger and a
rollback.
"""
import json
import os
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


# -- the loop end to end: Label Studio + the backend + training -------------------------------------------------

FOLDS, REPEATS = 3, 2  # small, so the loop runs in minutes; the gate's rule is the same at any size


def _with_type(result: list[dict], label: str) -> list[dict]:
    """An annotation's result with its release type replaced (what an annotator's correction changes)."""
    from labeling.schema import schema
    name = schema().type_name
    return [dict(r, value={"choices": [label]}) if r.get("from_name") == name else r for r in result]


def _result(task: dict) -> list[dict]:
    """The result of the task's annotation that counts (training.merge's rule)."""
    from training.merge import counting_annotation
    return counting_annotation(task)["result"]


def _type_of(task: dict) -> str:
    from labeling.schema import schema
    name = schema().type_name
    [r] = [r for r in _result(task) if r.get("from_name") == name]
    return r["value"]["choices"][0]


def _files(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def _press_start_training(server: str, ml_id: int) -> httpx.Response:
    """What the model card's "Start Training" does: the UI's trainMLBackend call (Label Studio then sends
    {"action": "START_TRAINING", "project": {...}} to the backend's /webhook)."""
    from lsserver import TOKEN
    return httpx.post(f"{server}/api/ml/{ml_id}/train", headers={"Authorization": f"Token {TOKEN}"}, json={},
                      timeout=120)


def _wait_finished(url: str, timeout: float = 900) -> dict:
    """The newest job once it has ended (the test asserts it started first)."""
    deadline = time.time() + timeout
    while True:
        [job, *_] = httpx.get(url + "/jobs", timeout=10).json()["jobs"]
        if job["state"] != "running":
            return httpx.get(f"{url}/jobs/{job['job']}", timeout=10).json()
        assert httpx.get(url + "/health", timeout=5).json()["status"] == "UP"  # serving goes on meanwhile
        assert time.time() < deadline, f"retraining still running after {timeout:.0f} s"
        time.sleep(1)


def _predict_in_label_studio(server: str, project: int, task_ids: list[int]) -> set[str]:
    """Ask Label Studio for predictions on these tasks (the Data Manager's action); the model versions it stored."""
    from lsserver import TOKEN
    h = {"Authorization": f"Token {TOKEN}"}
    r = httpx.post(f"{server}/api/dm/actions", params={"id": "retrieve_tasks_predictions", "project": project},
                   headers=h, json={"selectedItems": {"all": False, "included": task_ids}}, timeout=300)
    assert r.status_code == 200, r.text
    out = set()
    for tid in task_ids:
        preds = httpx.get(f"{server}/api/predictions/", params={"task": tid}, headers=h, timeout=30).json()
        out |= {p["model_version"] for p in preds}
    return out


@pytest.fixture(scope="session")
def seeded(tmp_path_factory):
    """A tmp MLflow store and model folder with a champion trained on the committed dataset (the shipped
    recipe), training in its own process while Label Studio starts (session scope, set up before the
    `server` fixture when a test asks for it first); yields (store, models, wait)."""
    import subprocess
    import sys
    tmp_path = tmp_path_factory.mktemp("loop")
    store, models = tmp_path / "mlruns", tmp_path / "models"
    shutil.copytree(ROOT / "models", models)
    chosen = json.loads((models / "release_type" / "manifest.json").read_text(encoding="utf-8"))["chosen"]
    proc = subprocess.Popen([sys.executable, "-c", (
        "import sys; from pathlib import Path; from training.retrain import retrain; "
        f"o = retrain(None, store={str(store)!r}, models_dir=Path({str(models)!r}), folds={FOLDS}, "
        f"repeats={REPEATS}, recipe={chosen!r}, log=lambda *a: None); sys.exit(0 if o.promoted else 1)")],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "seed.log", "wb"))

    def wait():
        assert proc.wait(timeout=1800) == 0, (tmp_path / "seed.log").read_text()[-3000:]
    try:
        yield store, models, wait
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.loop
def test_the_loop(seeded, server, tmp_path, export, monkeypatch):
    """Restore → connect the backend → corrections → Start Training → challenger promoted and served → rollback
    byte for byte (served back) → shuffled labels held back by the gate (served model unchanged)."""
    import subprocess
    import sys

    from lsserver import TOKEN
    from labeling.client import connect
    from labeling.restore import restore

    t0 = time.time()
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", TOKEN)
    h = {"Authorization": f"Token {TOKEN}"}
    store, models, wait_seed = seeded
    log = tmp_path / "backend.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    wait_seed()
    champion_files = _files(models)
    t_seed = time.time()

    # the project: part of the dataset restored as annotated, under its annotators' accounts, and tasks not
    # annotated yet (normal in a live project: skipped and counted by the retraining)
    client = connect(server, TOKEN)
    restored, pending = export[:24], export[24:29]
    project = restore(client, restored, "kz loop")["project"]
    client.projects.import_tasks(project, request=[{"data": t["data"]} for t in pending])
    tasks = {t.data["release_id"]: t for t in client.tasks.list(project=project, fields="all")}

    with backend_process("--label-studio-url", server, "--project", "kz loop", "--store", str(store),
                         "--models-dir", str(models), "--folds", str(FOLDS), "--repeats", str(REPEATS),
                         "--cooldown", "0", "--reload-interval", "0.5", env={"LABEL_STUDIO_API_KEY": TOKEN},
                         log_to=log) as url:
        v1 = httpx.get(url + "/health").json()["model_version"]
        assert v1.startswith("g") and v1 != "unavailable"
        r = httpx.post(f"{server}/api/ml", headers=h, json={"url": url, "project": project, "title": "kzclassify"})
        assert r.status_code == 201, r.text
        ml_id = r.json()["id"]
        hooks = httpx.get(f"{server}/api/webhooks/", params={"project": project}, headers=h).json()
        assert [w["url"] for w in hooks] == [url + "/webhook"]  # Label Studio made it when the model was connected

        # corrections: an annotator changes the type of three restored releases and confirms two, in the UI's call
        labels = sorted({_type_of(t) for t in export})
        for i, t in enumerate(restored[:5]):
            old = _type_of(t)
            new = labels[(labels.index(old) + 1) % len(labels)] if i < 3 else old
            task = tasks[t["data"]["release_id"]]
            r = httpx.post(f"{server}/api/tasks/{task.id}/annotations/", headers=h, timeout=30,
                           json={"result": _with_type(_result(t), new), "lead_time": 9.0,
                                 "project": project})
            assert r.status_code == 201, r.text
        jobs = httpx.get(url + "/jobs").json()
        assert jobs["jobs"] == [] and jobs["annotation_events"]["ANNOTATION_CREATED"] == 5  # counted, nothing started

        # "Start Training" on the model card
        r = _press_start_training(server, ml_id)
        assert r.status_code == 200 and r.content in (b"", b"{}", b"null"), r.content  # the dialog: "Response: {}"
        [job] = httpx.get(url + "/jobs").json()["jobs"]
        assert job["trigger"].startswith("START_TRAINING") and job["project"] == "kz loop"
        done = _wait_finished(url)
        t_first = time.time()
        assert done["state"] == "finished", done
        out = done["outcome"]
        assert out["counts"]["skipped_unannotated"] == len(pending)
        assert out["counts"]["labels_changed"] == 3 and out["counts"]["from_project"] >= 5
        assert out["promoted"] and out["decision"].startswith("promoted"), out["decision"]
        v2 = out["served_model_version"]
        generation = int(v2.split("-")[0][1:])
        assert v2 == out["model_version"] and v2 != v1 and generation == int(v1.split("-")[0][1:]) + 1
        # the backend serves it (no restart), Label Studio's model and its new predictions carry it
        assert httpx.get(url + "/health").json()["model_version"] == v2
        assert httpx.get(f"{server}/api/ml/{ml_id}", headers=h).json()["model_version"] == v2  # via /setup
        some = [tasks[t["data"]["release_id"]].id for t in pending[:2]]
        assert _predict_in_label_studio(server, project, some) == {v2}

        # the registry: the new generation registered (as challenger, now champion), the gate's decision on the
        # version and on the run
        from training import registry
        c = registry.client(str(store))
        for name, version in out["versions"].items():
            mv = c.get_model_version(name, version)
            assert mv.tags["gate"] == "promoted" and mv.tags["gate_decision"] == out["decision"]
            assert out["decision"] in mv.description and mv.tags["model_generation"] == str(generation)
            assert "champion" in c.get_model_version(name, version).aliases
        run = c.get_run(out["run_id"])
        assert run.data.tags["gate.decision"] == out["decision"] and run.data.metrics["gate.promoted"] == 1

        # rollback (another process): every alias back, models/ byte for byte; the backend follows
        rb = subprocess.run([sys.executable, "-m", "training", "rollback", "--store", str(store),
                             "--models-dir", str(models)], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
        assert rb.returncode == 0 and "Traceback" not in rb.stderr, rb.stderr[-2000:]
        assert _files(models) == champion_files
        assert _wait_version(url, v2) == v1

        # shuffled labels on most releases (imported with their annotations): the gate holds the challenger back
        rest = export[29:]
        types = [_type_of(t) for t in rest]
        shuffled = types[1:] + types[:1]  # each release gets its neighbour's type
        client.projects.import_tasks(project, request=[
            {"data": t["data"], "annotations": [{"result": _with_type(_result(t), s)}]}
            for t, s in zip(rest, shuffled)])
        r = _press_start_training(server, ml_id)
        assert r.status_code == 200
        done = _wait_finished(url)
        t_second = time.time()
        assert done["state"] == "finished", done
        out = done["outcome"]
        assert not out["promoted"] and out["decision"].startswith("held back"), out["decision"]
        assert out["served_model_version"] == v1 and httpx.get(url + "/health").json()["model_version"] == v1
        assert _files(models) == champion_files
        for name, version in out["versions"].items():
            assert c.get_model_version(name, version).tags["gate"] == "held back"
        assert _predict_in_label_studio(server, project, some) == {v1, v2}  # v1's added, v2's kept
    text = log.read_text()
    assert "Traceback" not in text
    assert text.count("retraining job") == 4  # one line as each job starts, one as it ends
    print(f"loop timings (after Label Studio started): champion ready {t_seed - t0:.0f} s later, restore + first retraining {t_first - t_seed:.0f} s, "
          f"rollback + shuffled retraining {t_second - t_first:.0f} s, total {time.time() - t0:.0f} s")
