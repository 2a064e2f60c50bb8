"""Integration with a real Label Studio server on 127.0.0.1 (the session's `server` fixture, tests/lsserver.py)."""
import time

import httpx
import pytest

from lsserver import TOKEN, free_port as _free_port

pytestmark = pytest.mark.server


RELEASES = [
    "Мемлекет басшысы Жапония Премьер-министрімен кездесті.\n– Біз ынтымақтастықты дамытамыз, – деді Қасым-Жомарт Тоқаев.",
    "Нұрсұлтан Назарбаев Ресей Президентімен телефон арқылы сөйлесті.",
    "Қазақстан Президенті жеделхат жолдады.\n«Қайғыларыңызға ортақпын», – делінген жеделхатта.",
]


def test_push_annotate_pull_validate_convert(server, tmp_path, monkeypatch):
    import kzclassify
    from labeling.cli import main
    from labeling.client import connect, find_project
    from labeling.submit import reading_to_annotation
    from labeling.ls_format import to_results
    from labeling.validate import validate_export
    from training.data import rows_from_export

    monkeypatch.setenv("LABEL_STUDIO_API_KEY", TOKEN)
    corpus = tmp_path / "c.txt"
    corpus.write_text("///".join(RELEASES + [RELEASES[0].replace(" ", "  ")]), encoding="utf-8")
    assert main(["push", str(corpus), "--url", server, "--project", "kz it", "--source", "model"]) == 0
    assert main(["push", str(corpus), "--url", server, "--project", "kz it", "--order", "uncertainty"]) == 0  # idempotent
    client = connect(server, TOKEN)
    project = find_project(client, "kz it")
    tasks = list(client.tasks.list(project=project.id, fields="all"))
    assert len(tasks) == 3
    for t in tasks:
        [pred] = t.predictions
        pred = pred if isinstance(pred, dict) else pred.dict()
        # the manifests' content version (g<generation>-<sha256>, both models), as the backend reports it
        assert pred["model_version"] == kzclassify.Analyzer().model_version and 0 <= pred["score"] <= 1
        assert 0 <= t.data["uncertainty"] <= 1

    # annotate as the UI does: POST /api/tasks/<id>/annotations with the result and the prediction it started from
    readings = {
        RELEASES[0]: {"type": "meeting", "quotes": [{"text": "Біз ынтымақтастықты дамытамыз",
                                                     "speaker_mention": "Қасым-Жомарт Тоқаев",
                                                     "speaker": "Қасым-Жомарт Тоқаев"}], "note": ""},
        RELEASES[1]: {"type": "phone_call", "quotes": [], "note": "a call"},
        RELEASES[2]: {"type": "telegram", "quotes": [{"text": "Қайғыларыңызға ортақпын",
                                                      "speaker_mention": "Қазақстан Президенті",
                                                      "speaker": "Нұрсұлтан Назарбаев"}], "note": ""},
    }
    for t in tasks:
        ann = reading_to_annotation(readings[t.data["text"]], t.data["text"])
        pred = t.predictions[0]
        pid = pred["id"] if isinstance(pred, dict) else pred.id
        r = httpx.post(f"{server}/api/tasks/{t.id}/annotations/", headers={"Authorization": f"Token {TOKEN}"},
                       json={"result": to_results(ann), "lead_time": 12.5, "parent_prediction": pid,
                             "project": project.id}, timeout=30)
        assert r.status_code == 201, r.text

    out = tmp_path / "export.json"
    assert main(["pull", "--url", server, "--project", "kz it", "-o", str(out)]) == 0
    import json
    export = json.loads(out.read_text(encoding="utf-8"))
    assert len(export) == 3
    a = export[0]["annotations"][0]
    assert a["id"] and a["completed_by"] and a["created_at"] and a["parent_prediction"]
    assert all(p.get("result") for t in export for p in t["predictions"])  # full predictions, not ids
    rep = validate_export(export)
    assert rep.ok, rep.problems
    assert main(["validate", str(out)]) == 0
    rows = rows_from_export(export)
    by_type = {r["release_type"]: r for r in rows}
    assert by_type["meeting"]["quotes"][0]["speaker"] == "Қасым-Жомарт Тоқаев"
    assert by_type["telegram"]["quotes"][0]["speaker_mention"] == "Қазақстан Президенті"


def _task_order(server, project: int, view: int) -> list[int]:
    """Task ids in the order of a Data Manager tab (what "Label All Tasks" follows)."""
    r = httpx.get(f"{server}/api/tasks/", params={"project": project, "view": view, "page_size": 100},
                  headers={"Authorization": f"Token {TOKEN}"}, timeout=30)
    assert r.status_code == 200, r.text
    return [t["id"] for t in r.json()["tasks"]]


def test_instructions_and_uncertainty_order_on_an_existing_project(server, tmp_path, monkeypatch):
    import json

    from labeling.cli import main
    from labeling.client import connect, find_project, instructions_html

    monkeypatch.setenv("LABEL_STUDIO_API_KEY", TOKEN)
    corpus = tmp_path / "c.txt"
    corpus.write_text("///".join(RELEASES), encoding="utf-8")
    tasks_file = tmp_path / "tasks.json"
    assert main(["tasks", str(corpus), "-o", str(tasks_file), "--source", "model"]) == 0
    tasks = json.loads(tasks_file.read_text(encoding="utf-8"))
    assert all("/" not in t["data"]["source"] for t in tasks)  # no machine path
    assert [t["data"]["source"] for t in tasks] == ["c.txt#0", "c.txt#1", "c.txt#2"]

    def confidence(*uncertainty):  # as a (re)trained model would give them
        for t, u in zip(tasks, uncertainty):
            t["data"]["uncertainty"], t["predictions"][0]["score"] = u, round(1 - u, 4)
        tasks_file.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")

    # pushed in corpus order: the first release is the most uncertain in this file
    confidence(0.9, 0.5, 0.1)
    assert main(["push", "--tasks", str(tasks_file), "--url", server, "--project", "kz order"]) == 0
    client = connect(server, TOKEN)
    project = find_project(client, "kz order")

    # the guide is the project's instructions, shown before labeling, restored by every push
    assert project.show_instruction and project.expert_instruction == instructions_html()
    assert "<h2>1. Release type (exactly one)</h2>" in project.expert_instruction and "<table>" in project.expert_instruction
    client.projects.update(project.id, expert_instruction="<p>old</p>", show_instruction=False)

    # retrained: the third release is now the least certain; the second push reorders the existing tasks
    confidence(0.1, 0.5, 0.9)
    assert main(["push", "--tasks", str(tasks_file), "--url", server, "--project", "kz order",
                 "--order", "uncertainty"]) == 0
    project = client.projects.get(project.id)
    assert project.show_instruction and project.expert_instruction == instructions_html()
    got = {t.data["release_id"]: t for t in client.tasks.list(project=project.id, fields="all")}
    assert len(got) == 3
    assert [got[t["data"]["release_id"]].data["uncertainty"] for t in tasks] == [0.1, 0.5, 0.9]
    [view] = [v for v in client.views.list(project=project.id) if v.data["title"].startswith("kzclassify")]
    # the tab shows the task id and the data fields an annotator picks a task by, nothing else
    from labeling.screen import SHOWN, column_ids
    columns = column_ids(client, project.id)
    assert {"tasks:data.text", "tasks:data.source", "tasks:total_annotations"} <= set(columns)
    shown = [c for c in columns if c not in view.data["hiddenColumns"]["explore"]]
    assert shown == [c for c in columns if c in SHOWN] and "tasks:data.first_line" in shown
    want = [got[t["data"]["release_id"]].id for t in reversed(tasks)]
    assert _task_order(server, project.id, view.id) == want
    # "Label All Tasks" (the Data Manager's next_task action, sent without the tab's ordering) follows
    # the project's uncertainty sampling: lowest prediction score of the pushed model version first
    assert project.sampling == "Uncertainty sampling"
    assert project.model_version == tasks[0]["predictions"][0]["model_version"]
    r = httpx.post(f"{server}/api/dm/actions", params={"id": "next_task", "project": project.id, "tabID": view.id},
                   json={"project": str(project.id)}, headers={"Authorization": f"Token {TOKEN}"}, timeout=30)
    assert r.status_code == 200 and r.json()["id"] == want[0], r.text
    # idempotent: a third push changes nothing and keeps one tab
    assert main(["push", "--tasks", str(tasks_file), "--url", server, "--project", "kz order",
                 "--order", "uncertainty"]) == 0
    assert len(list(client.views.list(project=project.id))) == 1
    assert len(list(client.tasks.list(project=project.id))) == 3


def test_pushed_predictions_carry_the_manifests_model_version(server, tmp_path, monkeypatch):
    import kzclassify

    from labeling.cli import main
    from labeling.client import connect, find_project

    monkeypatch.setenv("LABEL_STUDIO_API_KEY", TOKEN)
    corpus = tmp_path / "c.txt"
    corpus.write_text(RELEASES[0], encoding="utf-8")
    assert main(["push", str(corpus), "--url", server, "--project", "kz version", "--source", "model"]) == 0
    client = connect(server, TOKEN)
    [t] = list(client.tasks.list(project=find_project(client, "kz version").id, fields="all"))
    expected = "+".join(m["model_version"] for m in kzclassify.info()["models"].values())
    from backend import model_version  # the ML backend says the same
    assert [(p if isinstance(p, dict) else p.dict())["model_version"] for p in t.predictions] == [expected]
    assert model_version() == expected


def test_validate_reports_relation_problems_from_a_real_export(server, tmp_path, monkeypatch):
    """Annotations saved through the API as the UI saves them; `validate` names the task of each problem."""
    from labeling.cli import main
    from labeling.client import connect, ensure_project
    from labeling.ls_format import to_results
    from labeling.submit import reading_to_annotation

    monkeypatch.setenv("LABEL_STUDIO_API_KEY", TOKEN)
    client = connect(server, TOKEN)
    project = ensure_project(client, "kz relations")
    text = RELEASES[0]
    reading = {"type": "meeting", "note": "", "quotes": [{"text": "Біз ынтымақтастықты дамытамыз",
                                                          "speaker_mention": "Қасым-Жомарт Тоқаев",
                                                          "speaker": "Қасым-Жомарт Тоқаев"}]}
    good = to_results(reading_to_annotation(reading, text))
    # drawn from the speaker to the quote, no label: fine
    backwards = [dict(r, from_id=r["to_id"], to_id=r["from_id"]) if r["type"] == "relation" else r for r in good]
    # a relation with a label this config does not have, and one between two quotes
    labelled = [dict(r, labels=["mentions"]) if r["type"] == "relation" else r for r in good]
    quote_to_quote = [dict(r, to_id=r["from_id"]) if r["type"] == "relation" else r for r in good]
    client.projects.import_tasks(project.id, request=[
        {"data": {"text": text + f"\n{i}"}} for i in range(4)])
    ids = sorted(t.id for t in client.tasks.list(project=project.id))
    for tid, result in zip(ids, (good, backwards, labelled, quote_to_quote)):
        r = httpx.post(f"{server}/api/tasks/{tid}/annotations/", headers={"Authorization": f"Token {TOKEN}"},
                       json={"result": result, "project": project.id}, timeout=30)
        assert r.status_code == 201, r.text
    out = tmp_path / "export.json"
    assert main(["pull", "--url", server, "--project", "kz relations", "-o", str(out)]) == 0
    from labeling.io import load_json
    from labeling.validate import validate_export
    rep = validate_export(load_json(out))
    assert len(rep.releases) == 2
    quote, speaker = "QUOTE q1 'Біз ынтымақтастықты дамытамыз'", "SPEAKER s1 'Қасым-Жомарт Тоқаев'"
    assert sorted(str(p) for p in rep.problems) == sorted([
        f"task {ids[2]}: relation q1->s1: labels ['mentions']; the only relation is said_by",
        f"task {ids[2]}: {speaker} is linked to no QUOTE",
        f"task {ids[2]}: {quote} has 0 SPEAKER relations, expected 1",
        f"task {ids[3]}: relation q1->q1 must go from a QUOTE to a SPEAKER",
        f"task {ids[3]}: {speaker} is linked to no QUOTE",
        f"task {ids[3]}: {quote} has 0 SPEAKER relations, expected 1",
    ])
    assert main(["validate", str(out)]) == 1


def test_wrong_or_missing_token_is_a_clear_error(server, capsys, monkeypatch):
    from labeling.cli import main
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "not-the-token")
    assert main(["pull", "--url", server]) == 3
    err = capsys.readouterr().err
    assert "refused the token" in err and "Traceback" not in err
    monkeypatch.delenv("LABEL_STUDIO_API_KEY")
    monkeypatch.delenv("LABEL_STUDIO_USER_TOKEN", raising=False)
    assert main(["pull", "--url", server]) == 3
    assert "no API token" in capsys.readouterr().err


def test_refused_request_is_one_line_not_a_traceback(server, capsys, monkeypatch, tmp_path):
    from labeling.cli import main
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", TOKEN)
    corpus = tmp_path / "c.txt"
    corpus.write_text(RELEASES[1], encoding="utf-8")
    assert main(["push", str(corpus), "--url", server, "--project", "x", "--source", "rules"]) == 3
    err = capsys.readouterr().err
    assert "refused the request (HTTP 400)" in err and "title" in err


@pytest.fixture(scope="module")
def backend(server, tmp_path_factory):
    from test_backend import backend_process
    with backend_process("--label-studio-url", server, env={"LABEL_STUDIO_API_KEY": TOKEN}) as url:
        yield url


def test_ml_backend_predictions(server, backend, export, monkeypatch):
    from backend import model_version
    from labeling.client import connect, ensure_project
    from labeling.ls_format import from_results

    monkeypatch.setenv("LABEL_STUDIO_API_KEY", TOKEN)
    url = backend
    h = {"Authorization": f"Token {TOKEN}"}
    assert httpx.get(url + "/health").json()["status"] == "UP"

    # a project with annotated releases of every type
    client = connect(server, TOKEN)
    project = ensure_project(client, "kz backend")
    per_type, tasks = {}, []
    for t in export:
        gt = [a for a in t["annotations"] if a.get("ground_truth")] or t["annotations"]
        label = from_results(gt[0]["result"], t["data"]["text"]).release_type
        if per_type.get(label, 0) < 6:
            per_type[label] = per_type.get(label, 0) + 1
            tasks.append({"data": t["data"], "annotations": [{"result": gt[0]["result"]}]})
    client.projects.import_tasks(project.id, request=tasks)

    r = httpx.post(f"{server}/api/ml", headers=h, json={"url": url, "project": project.id, "title": "kzclassify"})
    assert r.status_code == 201, r.text

    # Label Studio asks the backend for predictions on every task (community edition action)
    r = httpx.post(f"{server}/api/dm/actions", params={"id": "retrieve_tasks_predictions", "project": project.id},
                   headers=h, json={"selectedItems": {"all": True, "excluded": []}}, timeout=300)
    assert r.status_code == 200, r.text
    got = list(client.tasks.list(project=project.id, fields="all"))
    preds = [p if isinstance(p, dict) else p.dict() for t in got for p in (t.predictions or [])]
    assert len(preds) == len(tasks)
    assert {p["model_version"] for p in preds} == {model_version()}
    for t in got:
        p = t.predictions[0]
        p = p if isinstance(p, dict) else p.dict()
        from_results(p["result"], t.data["text"])  # valid against the config and the text
    # retraining from Label Studio's Start Training: tests/test_loop.py (marker `loop`)


PEOPLE_RELEASE = (
    "Мемлекет басшысы Қасым-Жомарт Тоқаев Ақордада Жапония Премьер-министрі Фумио Кисиданы қабылдады.\n"
    "Кездесу барысында Қасым-Жомарт Тоқаев екі ел арасындағы ынтымақтастықтың маңызын атап өтті.\n"
    "– Біз Жапониямен серіктестікті нығайтуға мүдделіміз, – деді Қазақстан Президенті.\n"
    "Өз кезегінде қонақ Тоқаевқа қонақжайлық үшін алғыс айтты.")


def test_pushed_prediction_marks_every_mention_of_a_person(server, tmp_path, monkeypatch):
    """Push a release naming the President four ways with the full PERSON layer (``--persons all``): its
    prediction carries a PERSON region with the canonical name for each mention that is not the quote's
    SPEAKER (the title written right before his name is not one of its own); accepted and pulled, they
    are the people."""
    import json

    from labeling.cli import main
    from labeling.client import connect, find_project
    from labeling.ls_format import from_results, to_results
    from labeling.validate import validate_export

    monkeypatch.setenv("LABEL_STUDIO_API_KEY", TOKEN)
    corpus = tmp_path / "c.txt"
    corpus.write_text(PEOPLE_RELEASE, encoding="utf-8")
    assert main(["push", str(corpus), "--url", server, "--project", "kz people", "--source", "model",
                 "--persons", "all"]) == 0
    client = connect(server, TOKEN)
    project = find_project(client, "kz people")
    [t] = list(client.tasks.list(project=project.id, fields="all"))
    pred = t.predictions[0] if isinstance(t.predictions[0], dict) else t.predictions[0].dict()
    text = t.data["text"]
    canon = {r["id"]: r["value"]["text"] for r in pred["result"] if r.get("from_name") == "canonical"}
    regions = [(r["value"]["labels"][0], r["value"]["text"], canon.get(r["id"])) for r in pred["result"]
               if r.get("type") == "labels"]
    president = ["Қасым-Жомарт Тоқаев"]
    assert ("SPEAKER", "Қазақстан Президенті", president) in regions
    for mention in ("Қасым-Жомарт Тоқаев", "Тоқаевқа"):
        assert ("PERSON", mention, president) in regions
    assert not any(label == "PERSON" and said == "Мемлекет басшысы" for label, said, _ in regions)
    assert all(c for label, _, c in regions if label == "PERSON")  # every PERSON carries its canonical name

    # the annotator accepts the pre-annotation as it is (the UI saves the regions as manual results)
    accepted = to_results(from_results(pred["result"], text))
    r = httpx.post(f"{server}/api/tasks/{t.id}/annotations/", headers={"Authorization": f"Token {TOKEN}"},
                   json={"result": accepted, "parent_prediction": pred["id"], "project": project.id}, timeout=30)
    assert r.status_code == 201, r.text
    out = tmp_path / "export.json"
    assert main(["pull", "--url", server, "--project", "kz people", "-o", str(out)]) == 0
    [task] = json.loads(out.read_text(encoding="utf-8"))
    rep = validate_export([task])
    assert rep.ok, rep.problems
    [ann] = rep.releases.values()
    people = ann.analysis.people
    [q] = ann.quotes
    tokayev = people[q.person]
    assert tokayev.name == "Қасым-Жомарт Тоқаев" and q.speaker == tokayev.name
    # the name in the lead (line 1) and the one in line 2, the SPEAKER, the dative
    assert [m[2] for m in tokayev.mentions] == ["Қасым-Жомарт Тоқаев", "Қасым-Жомарт Тоқаев",
                                                "Қазақстан Президенті", "Тоқаевқа"]
    assert all(text[s:e] == said for p in people for s, e, said in p.mentions)
    assert people == from_results(pred["result"], text).analysis.people  # what was predicted, unchanged
