"""`labeling restore` and a safe `labeling pull`, on a real Label Studio server (the session's `server` fixture)."""
import json

import pytest

from lsserver import TOKEN

pytestmark = pytest.mark.server


def _slice(export, n_single=4, n_double=2):
    """A few tasks of the committed dataset: singly annotated ones and doubly annotated + adjudicated ones."""
    single = [t for t in export if len(t["annotations"]) == 1][:n_single]
    double = [t for t in export if len(t["annotations"]) == 3][:n_double]
    return single + double


def _who(task):
    return sorted((a["completed_by"]["email"], bool(a["ground_truth"]), json.dumps(a["result"], sort_keys=True))
                  for a in task["annotations"])


def test_restore_keeps_every_annotator_and_pull_gives_the_same_annotations(server, export, tmp_path, monkeypatch):
    from labeling.cli import main
    from labeling.validate import validate_export
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", TOKEN)
    part = _slice(export)
    src = tmp_path / "part.json"
    src.write_text(json.dumps(part, ensure_ascii=False), encoding="utf-8")
    assert main(["restore", str(src), "--url", server, "--project", "kz restore"]) == 0
    out = tmp_path / "pulled.json"
    assert main(["pull", "--url", server, "--project", "kz restore", "-o", str(out)]) == 0
    pulled = {t["data"]["release_id"]: t for t in json.loads(out.read_text(encoding="utf-8"))}
    assert set(pulled) == {t["data"]["release_id"] for t in part}
    for t in part:
        assert _who(pulled[t["data"]["release_id"]]) == _who(t)  # same annotators, marks and results
        new = pulled[t["data"]["release_id"]]
        assert [p["result"] for p in new["predictions"]] == [p["result"] for p in t["predictions"]]
        pids = {p["id"] for p in new["predictions"]}
        assert all(a["parent_prediction"] in pids for a in new["annotations"])  # linked to the prediction it started from
    assert validate_export(list(pulled.values())).ok
    # a second restore into the same project changes nothing and says why
    assert main(["restore", str(src), "--url", server, "--project", "kz restore"]) == 3


def test_pull_never_shrinks_a_dataset_without_force_and_keeps_the_previous_file(server, export, tmp_path, monkeypatch,
                                                                                capsys):
    from labeling.cli import main
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", TOKEN)
    part = _slice(export, 2, 0)
    src = tmp_path / "part.json"
    src.write_text(json.dumps(part, ensure_ascii=False), encoding="utf-8")
    assert main(["restore", str(src), "--url", server, "--project", "kz shrink"]) == 0
    big = tmp_path / "export.json"
    big.write_text(json.dumps(export[:10], ensure_ascii=False), encoding="utf-8")  # 10 annotated tasks
    before = big.read_bytes()
    capsys.readouterr()
    assert main(["pull", "--url", server, "--project", "kz shrink", "-o", str(big)]) == 2
    err = capsys.readouterr().err
    assert "refusing to write 2 annotated tasks" in err and "holds 10" in err and "Traceback" not in err
    assert big.read_bytes() == before and not (tmp_path / "export.json.prev").exists()
    assert main(["pull", "--url", server, "--project", "kz shrink", "-o", str(big), "--force"]) == 0
    assert len(json.loads(big.read_text(encoding="utf-8"))) == 2
    assert (tmp_path / "export.json.prev").read_bytes() == before  # one bad pull is undone with a rename


def test_pull_writes_to_out_by_default_not_the_committed_dataset():
    from labeling.cli import _parser
    from paths import EXPORT, PULLED
    args = _parser().parse_args(["pull"])
    assert args.out == str(PULLED) and args.out != str(EXPORT)


def test_pull_pseudonymises_annotators():
    from labeling.client import pseudonymise
    export = [{"annotations": [{"completed_by": {"id": 3, "email": "Aigul.S@newsroom.kz", "first_name": "Айгүл",
                                                 "last_name": "С"}},
                               {"completed_by": {"id": 2, "email": "annotator-1@kzclassify.local",
                                                 "first_name": "Annotator", "last_name": "1"}}]}]
    out = pseudonymise(json.loads(json.dumps(export)))
    a, b = (x["completed_by"] for x in out[0]["annotations"])
    assert a["email"].startswith("annotator-") and a["email"].endswith("@kzclassify.local")
    assert "aigul" not in json.dumps(a, ensure_ascii=False).lower() and "Айгүл" not in json.dumps(a, ensure_ascii=False)
    assert a == pseudonymise(json.loads(json.dumps(export)))[0]["annotations"][0]["completed_by"]  # stable
    assert b["email"] == "annotator-1@kzclassify.local"
