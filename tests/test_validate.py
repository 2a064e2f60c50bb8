"""Hostile exports: `python -m labeling validate/stats/agreement/prediff` report problems by task id, never a traceback."""
import copy
import json

import pytest

from labeling.cli import main as labeling_main
from labeling.ls_format import annotated, annotated_quote, from_results, to_results
from labeling.validate import decode, validate_export

TEXT = "Кездесу өтті.\n– Біз дайынбыз, – деді Мемлекет басшысы."
COMMANDS = ("validate", "stats", "agreement", "prediff")


def _ann():
    s, m = TEXT.index("Біз"), TEXT.index("Мемлекет")
    return annotated("meeting", [annotated_quote(TEXT, s, s + 12, m, m + 16, "Қасым-Жомарт Тоқаев")])


def _task(tid=7):
    """A task as `pull` writes it: one annotation started from the task's prediction (a distinct release per id)."""
    return {"id": tid, "data": {"text": f"{TEXT}\n{tid}"},
            "predictions": [{"id": 70 + tid, "model_version": "m", "result": to_results(_ann(), origin="prediction")}],
            "annotations": [{"id": tid, "completed_by": 1, "parent_prediction": 70 + tid, "result": to_results(_ann())}]}


def _result(task):
    return task["annotations"][0]["result"]


def _item(task, **match):
    return next(r for r in _result(task) if all(r.get(k) == v for k, v in match.items()))


def _problems(export, **kw):
    return [str(p) for p in validate_export(export, **kw).problems]


def _run_all(tmp_path, capsys, export):
    """Every export command on ``export``: exit codes and what they printed."""
    f = tmp_path / "export.json"
    f.write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    out = {}
    for cmd in COMMANDS:
        code = labeling_main([cmd, str(f)])
        o, e = capsys.readouterr()
        assert "Traceback" not in o + e
        out[cmd] = (code, o, e)
    return out


def _value_is_a_string(t):
    _item(t, id="q1", type="labels")["value"] = "Біз дайынбыз"


def _from_id_is_a_list(t):
    _item(t, type="relation")["from_id"] = ["q1"]


def _canonical_is_not_text(t):
    _item(t, from_name="canonical")["value"]["text"] = [42]


def _canonical_id_is_a_list(t):
    _item(t, from_name="canonical")["id"] = ["s1"]


@pytest.mark.parametrize("spoil, expected", [
    (_canonical_id_is_a_list, "result item id must be a string, got ['s1']"),
    (_value_is_a_string, "result item 'q1' (labels): value is str, expected an object"),
    (_from_id_is_a_list, "relation from_id/to_id must be region ids, got ['q1'] -> 's1'"),
    (_canonical_is_not_text, "text field canonical of 's1': text must be a list of strings, got [42]"),
])
def test_malformed_items_are_problems_with_the_task_id(spoil, expected, tmp_path, capsys):
    t = _task()
    spoil(t)
    assert f"task 7: {expected}" in _problems([t])
    # the prediction is spoiled the same way: prediff names the task, the others do not crash
    t2 = _task(9)
    spoil(t2)
    t2["predictions"][0]["result"], t2["annotations"][0]["result"] = _result(t2), to_results(_ann())
    out = _run_all(tmp_path, capsys, [t, _task(8), t2])
    assert out["validate"][0] == 1 and f"task 7: {expected}" in out["validate"][1]
    stats = json.loads(out["stats"][1])
    assert stats["releases"] == 2 and stats["problems"] >= 1
    prediff = json.loads(out["prediff"][1])
    assert prediff["releases"] == 1
    assert any(p.startswith("task 7: annotation:") and expected in p for p in prediff["problems"])
    assert any(p.startswith("task 9: prediction 79:") and expected in p for p in prediff["problems"])
    assert out["agreement"][0] == 0


def test_a_directory_or_missing_file_is_one_line(tmp_path, capsys):
    for cmd in COMMANDS:
        assert labeling_main([cmd, str(tmp_path)]) == 2
        err = capsys.readouterr().err
        assert err == f"error: {tmp_path}: is a directory, expected a JSON file\n"
        assert labeling_main([cmd, str(tmp_path / "nope.json")]) == 2
        assert "no such file" in capsys.readouterr().err


def test_duplicated_quote_region_with_its_relation():
    t = _task()
    res = _result(t)
    q = copy.deepcopy(_item(t, id="q1", type="labels"))
    q["id"] = "q1copy"
    res += [q, {"from_id": "q1copy", "to_id": "s1", "type": "relation", "direction": "right", "labels": []}]
    assert _problems([t]) == ["task 7: QUOTE q1copy 'Біз дайынбыз' duplicates QUOTE q1 (same span)"]
    # the same region id twice (a copied item)
    t = _task()
    _result(t).append(copy.deepcopy(_item(t, id="q1", type="labels")))
    assert "task 7: region id q1 is used by two spans" in _problems([t])


def test_shifted_offsets_without_text_are_reported():
    t = _task()
    q = _item(t, id="q1", type="labels")
    q["value"]["start"] += 2
    q["value"]["end"] += 2
    del q["value"]["text"]
    [p] = _problems([t])[:1]
    assert p.startswith("task 7: span q1: no value.text to check its offsets 18..30")


def test_relations_either_way_unlabelled_and_wrong():
    # the config has no relation label: an unlabelled QUOTE–SPEAKER relation is said_by ...
    t = _task()
    rel = _item(t, type="relation")
    rel["labels"] = []
    assert decode(_result(t), TEXT) == _ann()
    # ... and so is one drawn from the speaker to the quote
    rel.update(from_id="s1", to_id="q1")
    del rel["labels"]
    assert decode(_result(t), TEXT) == _ann()
    # old exports carry the label said_by: the same meaning
    rel["labels"] = ["said_by"]
    assert decode(_result(t), TEXT) == _ann()
    rel["labels"] = ["mentions"]
    assert "task 7: relation s1->q1: labels ['mentions']; the only relation is said_by" in _problems([t])
    # a relation that joins no QUOTE to a SPEAKER, and a speaker left unlinked
    rel.update(from_id="q1", to_id="q1", labels=[])
    ps = _problems([t])
    assert "task 7: relation q1->q1 must go from a QUOTE to a SPEAKER" in ps
    assert "task 7: SPEAKER s1 'Мемлекет басшысы' is linked to no QUOTE" in ps
    t = _task()
    _result(t).append(copy.deepcopy(_item(t, type="relation")))
    assert _problems([t]) == ["task 7: relation q1->s1 is there twice"]


def test_unlabelled_relation_is_a_problem_when_the_config_has_labels():
    from labeling.schema import parse_config, schema
    xml = schema().xml.replace("<Text ", '<Relations><Relation value="said_by"/></Relations><Text ', 1)
    sc = parse_config(xml)
    t = _task()
    _item(t, type="relation")["labels"] = []
    with pytest.raises(Exception, match="relation q1->s1 has no label; choose said_by"):
        decode(_result(t), TEXT, sc)


def test_canonical_name_on_a_quote_is_reported():
    t = _task()
    c = copy.deepcopy(_item(t, from_name="canonical"))
    c["id"] = "q1"
    _result(t).append(c)
    assert _problems([t]) == ["task 7: canonical name ['Қасым-Жомарт Тоқаев'] belongs to 'q1', "
                              "which is not a SPEAKER or PERSON span"]


def test_agreement_on_an_empty_export_is_json(tmp_path, capsys):
    def strict(s):
        return json.loads(s, parse_constant=lambda c: pytest.fail(f"{c} in JSON output"))
    for export in ([], [_task()], [{"id": 1}, 5, {"id": 2, "data": {"text": 3}}]):
        out = _run_all(tmp_path, capsys, export)
        a = strict(out["agreement"][1])
        assert a["releases"] == 0 and a["type_agreement"] is None and a["type_kappa"] is None
        strict(out["prediff"][1])
        strict(out["stats"][1])
    f = tmp_path / "x.json"
    f.write_text('{"tasks": []}', encoding="utf-8")
    assert labeling_main(["agreement", str(f)]) == 2
    assert capsys.readouterr().err == "error: export is a dict, expected a list of tasks\n"


def test_annotations_of_the_wrong_type():
    t = _task()
    t["annotations"] = 5
    assert _problems([t]) == ["task 7: no submitted annotation"]
    t["annotations"] = [5, {"result": 3}]
    assert _problems([t]) == ["task 7: result is int, expected a list"]


def test_round_trip_is_unchanged_by_the_checks():
    t = _task()
    assert decode(_result(t), TEXT) == from_results(_result(t), TEXT) == _ann()


def test_push_refuses_a_bad_tasks_file_before_touching_the_server(tmp_path, capsys):
    from labeling.client import check_tasks
    with pytest.raises(ValueError, match="tasks must be a list, got dict"):
        check_tasks({"tasks": []})
    with pytest.raises(ValueError, match=r"task #1: needs data.text and data.release_id"):
        check_tasks([{"data": {"text": "x", "release_id": "1"}}, {"data": {"text": "y"}}])
    with pytest.raises(ValueError, match=r"task #0: predictions must be a list"):
        check_tasks([{"data": {"text": "x", "release_id": "1"}, "predictions": [{"result": "q"}]}])
    f = tmp_path / "tasks.json"
    f.write_text('[{"data": {"text": "x"}}]', encoding="utf-8")
    # the server is not even asked (nothing listens on port 9)
    assert labeling_main(["push", "--tasks", str(f), "--url", "http://127.0.0.1:9"]) == 2
    assert "task #0: needs data.text and data.release_id" in capsys.readouterr().err


def test_random_corruptions_never_raise(export):
    """Any field of any result item (or of the task) replaced by junk: problems, never an exception."""
    import random

    from labeling.agreement import agreement, dataset_stats, prediction_report
    rng = random.Random(15)
    junk = [None, 5, -1, 1.5, True, "x", "", [], {}, [42], ["q1"], {"a": 1}, [None]]
    base = [t for t in export if len(t["annotations"]) > 1][:10] + export[:10]
    for _ in range(400):
        t = copy.deepcopy(rng.choice(base))
        holder = rng.choice([t, t["data"], rng.choice(t["annotations"]), rng.choice(t["predictions"])]
                            + [rng.choice(a["result"]) for a in t["annotations"] if a["result"]])
        item = holder
        if isinstance(item.get("value"), dict) and rng.random() < 0.5:
            item = item["value"]
        item[rng.choice(sorted(item))] = rng.choice(junk)
        for fn in (validate_export, agreement, prediction_report, dataset_stats):
            fn([t])
