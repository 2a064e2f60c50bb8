"""The loop's training side: merge rules, version ordering, and (slow) retrain → gate → promote → rollback on a
real MLflow store with byte-identical models/ restored from the registry."""
import copy
import hashlib
import json
import random
from pathlib import Path

import pytest

from conftest import EXPORT


def _sha(d: Path) -> dict:
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.rglob("*")) if p.is_file()}


def _task(text: str, label: str, when: str, gt: bool = False, tid: int = 1) -> dict:
    return {"id": tid, "data": {"text": text}, "annotations": [_ann(label, when, gt)]}


def _ann(label: str, when: str, gt: bool = False) -> dict:
    return {"result": [{"id": "release_type", "from_name": "release_type", "to_name": "text", "type": "choices",
                        "origin": "manual", "value": {"choices": [label]}}],
            "was_cancelled": False, "ground_truth": gt, "created_at": when, "updated_at": when}


def test_merge_newest_annotation_wins_and_unannotated_tasks_are_counted():
    from training.merge import label_diff, merge
    a, b, c = "Мемлекет басшысы кездесті.", "Президент жеделхат жолдады.", "Үшінші мәтін."
    committed = [_task(a, "meeting", "2026-01-01T00:00:00Z", tid=1), _task(b, "telegram", "2026-03-01T00:00:00Z", tid=2)]
    project = [_task(a, "visit", "2026-02-01T00:00:00Z", tid=10),  # newer: wins
               _task(b, "other", "2026-02-01T00:00:00Z", tid=11),  # older than the committed one: loses
               {"id": 12, "data": {"text": c}, "annotations": []},  # unannotated: skipped, counted
               {"id": 13, "data": {"text": c + " 2"}, "annotations": [{**_ann("award", "2026-05-01T00:00:00Z"),
                                                                       "was_cancelled": True}]}]
    m = merge(committed, project)
    by_type = {r["text"]: r["release_type"] for r in m.rows}
    assert by_type == {a: "visit", b: "telegram"}
    assert m.counts["skipped_unannotated"] == 2 and m.counts["tasks"] == 4 and m.counts["annotated"] == 2
    # several annotations in one task: the adjudicated one counts, else the newest
    t = {"id": 5, "data": {"text": a}, "annotations": [_ann("award", "2026-06-01T00:00:00Z"),
                                                       _ann("event", "2026-01-02T00:00:00Z", gt=True)]}
    assert merge([t], None).rows[0]["release_type"] == "event"
    t["annotations"][1]["ground_truth"] = False
    assert merge([t], None).rows[0]["release_type"] == "award"
    d = label_diff(merge(committed, None).rows, m.rows)
    assert d["counts"] == {"releases_added": 0, "releases_removed": 0, "labels_changed": 1, "quotes_changed": 0}
    assert d["labels_changed"][0]["before"] == "meeting" and d["labels_changed"][0]["after"] == "visit"


def test_merge_names_a_bad_annotation_instead_of_dropping_it():
    from training.data import InvalidExport
    from training.merge import merge
    bad = _task("Мәтін.", "no_such_type", "2026-01-01T00:00:00Z")
    with pytest.raises(InvalidExport, match="no_such_type"):
        merge([], [bad])


def test_package_version_orders_by_model_generation():
    from packaging.version import Version

    from kzclassify._version import package_version
    vs = [Version(package_version("0.1.0", g)) for g in (0, 1, 2, 10)] + [Version(package_version("0.1.1", 0))]
    assert vs == sorted(vs) and len(set(vs)) == len(vs)
    assert str(vs[0]) == "0.1.0" and str(vs[2]) == "0.1.0.post2"


def test_folds_depend_on_the_release_id_alone():
    from training.folds import fold_ids, splits
    ids = [hashlib.sha1(str(i).encode()).hexdigest() for i in range(50)]
    f = fold_ids(ids, 5, 0)
    assert list(fold_ids(ids[10:], 5, 0)) == list(f[10:])  # other releases do not move a release's fold
    assert sorted(i for _, te in splits(ids, 5, 0) for i in te) == list(range(50))
    assert list(fold_ids(ids, 5, 1)) != list(f)


# --- the loop on a real MLflow store (slow) ---------------------------------------------------------------

PER_TYPE = 8
RECIPE = "tfidf_word_lr"  # no inner calibration folds (a shuffled slice can leave a fold with <3 of a type)


def _slice(export: list) -> list:
    from kzclassify._text import release_id
    from training.data import rows_from_export
    types = {r["id"]: r["release_type"] for r in rows_from_export(export)}
    kept, per = [], {}
    for t in export:
        ty = types[release_id(t["data"]["text"])]
        if per.get(ty, 0) < PER_TYPE:
            per[ty] = per.get(ty, 0) + 1
            kept.append(t)
    return kept


def _relabel(task: dict, label: str, when: str) -> dict:
    t = copy.deepcopy(task)
    from training.merge import counting_annotation
    ann = copy.deepcopy(counting_annotation(t))
    for item in ann["result"]:
        if item.get("from_name") == "release_type":
            item["value"] = {"choices": [label]}
    ann.update(updated_at=when, created_at=when, ground_truth=False)
    t["annotations"] = [ann]
    return t


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    d = tmp_path_factory.mktemp("loop")
    committed = d / "committed.json"
    tasks = _slice(json.loads(EXPORT.read_text(encoding="utf-8")))
    committed.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    return {"dir": d, "store": str(d / "mlruns"), "models": d / "models", "committed": committed, "tasks": tasks}


def _retrain(loop, project):
    from training.retrain import retrain
    return retrain(project, store=loop["store"], committed=loop["committed"], models_dir=loop["models"],
                   folds=3, repeats=2, recipe=RECIPE, log=lambda *a: None)


def _artifact_sha(loop, generation: int) -> dict:
    """sha256 of every file of the registry's model_dir/ artifacts of one generation."""
    import tempfile

    import mlflow

    from training import registry
    out = {}
    registry.client(loop["store"])  # points MLflow at the test's store
    for slot, mv in registry.resolve(str(generation), loop["store"]).items():
        with tempfile.TemporaryDirectory() as td:
            p = Path(mlflow.artifacts.download_artifacts(run_id=mv.run_id, artifact_path="model_dir", dst_path=td))
            out.update({f"{slot}/{k}": v for k, v in _sha(p).items()})
    return out


@pytest.mark.slow
def test_retrain_gate_promote_rollback_byte_identical(loop):
    import mlflow

    from packaging.version import Version

    from training import registry, tracking

    # 1. the first retraining becomes the champion; models/ is its run's artifacts, byte for byte
    first = _retrain(loop, None)
    assert first.promoted and first.decision.startswith("promoted: first champion")
    assert first.model_version.startswith("g1-") and "+g1-" in first.model_version
    assert _sha(loop["models"]) == _artifact_sha(loop, 1)
    c = registry.client(loop["store"])
    exp = c.get_experiment_by_name(tracking.LOOP_EXPERIMENT)
    assert exp.tags[tracking.EXPERIMENT_KIND[0]] == "custom_model_development"
    run = c.get_run(first.run_id)
    assert {"macro_f1", "accuracy", "speaker_accuracy", "end_to_end_f1", "calibration_ece", "f1_meeting",
            "diff.releases_added", "data.skipped_unannotated"} <= set(run.data.metrics)
    arts = {a.path for a in c.list_artifacts(first.run_id)}
    assert {"label_diff.json", "confusion_matrix.json", "confusion_matrix.png", "gate.json", "data"} <= arts
    children = mlflow.search_runs([exp.experiment_id], f"tags.mlflow.parentRunId = '{first.run_id}'",
                                  output_format="list")
    assert {r.data.tags["stage"] for r in children} == {"release_type", "quotes"}
    assert all(r.data.params.get("folds") == "3" for r in children)

    # 2. a project export: a few tasks unannotated, one quote removed (newer): not worse → promoted
    tasks = loop["tasks"]
    project = [copy.deepcopy(t) for t in tasks]
    for t in project[:3]:
        t["annotations"] = []
    with_quote = next(i for i, t in enumerate(project[3:], 3) if any(r.get("type") == "relation"
                                                                   for r in t["annotations"][0]["result"]))
    from training.merge import counting_annotation
    ann = counting_annotation(project[with_quote])
    rel = next(r for r in ann["result"] if r.get("type") == "relation")
    ann["result"] = [r for r in ann["result"] if r is not rel and r.get("id") not in (rel["from_id"], rel["to_id"])]
    ann["updated_at"] = "2099-01-01T00:00:00Z"
    project[with_quote]["annotations"] = [ann]
    second = _retrain(loop, project)
    assert second.counts["skipped_unannotated"] == 3 and second.counts["quotes_changed"] == 1
    assert second.counts["labels_changed"] == 0 and second.counts["releases_added"] == 0
    assert second.promoted, second.decision
    assert second.model_version.startswith("g2-") and second.model_version != first.model_version
    assert _sha(loop["models"]) == _artifact_sha(loop, 2)
    for name, v in second.versions.items():
        mv = c.get_model_version(name, v)
        assert mv.tags["gate"] == "promoted" and mv.tags["gate_decision"] == second.decision
        assert second.decision in mv.description
        assert str(c.get_model_version_by_alias(name, "champion").version) == v

    # 3. labels shuffled on most releases (newer annotations): worse beyond the spread → held back, nothing moves
    rng = random.Random(0)
    labels = [counting_annotation(t)["result"] for t in tasks]
    types = [next(r["value"]["choices"][0] for r in res if r.get("from_name") == "release_type") for res in labels]
    # (the rarest type keeps its releases: its calibration needs three in every training fold)
    movable = [i for i, ty in enumerate(types) if ty != "award"]
    shuffled = [types[i] for i in movable]
    rng.shuffle(shuffled)
    new_type = dict(zip(movable, shuffled))
    project3 = [_relabel(t, new_type[i], "2099-02-01T00:00:00Z") if i in new_type else t
                for i, t in enumerate(tasks)]
    before = _sha(loop["models"])
    third = _retrain(loop, project3)
    assert not third.promoted and third.decision.startswith("held back"), third.decision
    assert third.counts["labels_changed"] > len(tasks) // 2
    assert third.model_version == second.model_version and _sha(loop["models"]) == before
    for name, v in third.versions.items():
        assert c.get_model_version(name, v).tags["gate"] == "held back"
        assert str(c.get_model_version_by_alias(name, "challenger").version) == v
        assert str(c.get_model_version_by_alias(name, "champion").version) == second.versions[name]

    # 4. rollback: every alias back together, models/ byte-identical to generation 1; promote 2 again
    moved = registry.rollback(loop["store"], loop["models"])
    assert moved.generation == 1 and moved.previous == 2
    assert _sha(loop["models"]) == _artifact_sha(loop, 1)
    for name, v in first.versions.items():
        assert str(c.get_model_version_by_alias(name, "champion").version) == v
        assert str(c.get_model_version_by_alias(name, "previous-champion").version) == second.versions[name]
    registry.promote("2", loop["store"], loop["models"])
    assert _sha(loop["models"]) == _artifact_sha(loop, 2)
    with pytest.raises(registry.RegistryError, match="no version"):
        registry.promote("99", loop["store"], loop["models"])
    assert _sha(loop["models"]) == _artifact_sha(loop, 2)

    # 5. re-exporting an old version gives the same bytes (restored, never converted again)
    from training import export
    a = export.export_release_type("1", out=loop["dir"] / "x" / "release_type", store=loop["store"])
    b = export.export_release_type("1", out=loop["dir"] / "y" / "release_type", store=loop["store"])
    assert a == b and _sha(loop["dir"] / "x") == _sha(loop["dir"] / "y")
    assert _sha(loop["dir"] / "x" / "release_type") == {k.split("/", 1)[1]: v for k, v in _artifact_sha(loop, 1).items()
                                                         if k.startswith("release_type/")}
    # the package version a wheel of these models gets orders after the previous one
    from kzclassify._version import package_version
    assert Version(package_version(generation=2)) > Version(package_version(generation=1))
