"""End to end on a small slice: dataset → train → MLflow (real sqlite store) → register → export → serve."""
import json

import numpy as np
import pytest

pytestmark = pytest.mark.slow


def test_release_type_and_quotes_end_to_end(tmp_path, monkeypatch):
    import mlflow

    from kzclassify._model import load_model, read_manifest
    from training import export, quotes, release_type

    store = tmp_path / "mlruns"
    r = release_type.train(store=store, folds=3, limit=12, alias="champion")
    assert r.version == "1" and r.chosen in release_type.SHIPPABLE
    assert set(r.table) >= {"majority", "keyword_rules_lead", "tfidf_word_char_svc", release_type.BEFORE}
    # repeated CV: one metrics dict per repeat, the same folds for every model (paired differences)
    assert all(len(m["repeats"]) == release_type.REPEATS for m in r.table.values())
    cv = r.table[r.chosen]["cv"]
    assert cv["accuracy_min"] <= cv["accuracy"] <= cv["accuracy_max"] and cv["macro_f1_std"] >= 0
    assert r.paired[release_type.BEFORE]["macro_f1"] == 0.0
    # the error families count every first-repeat CV error of the previous and the shipped model
    for col, name in (("before", release_type.BEFORE), ("after", r.chosen)):
        cm = np.array(r.table[name]["repeats"][0]["confusion"]["matrix"])
        assert sum(v[col] for v in r.families.values()) == cm.sum() - np.trace(cm)
    # learning curve: the shipped candidate on growing shares of each training fold, the full share is the CV
    assert [c["fraction"] for c in r.curve] == [*release_type.CURVE_FRACTIONS, 1.0]
    assert [c["n_train"] for c in r.curve] == sorted(c["n_train"] for c in r.curve)
    assert r.curve[-1]["macro_f1"] == cv["macro_f1"]
    client = mlflow.MlflowClient()
    run = client.get_run(r.run_id)
    steps = client.get_metric_history(r.run_id, "curve_macro_f1")
    assert [(m.step, m.value) for m in steps] == [(c["n_train"], c["macro_f1"]) for c in r.curve]
    assert {f"{release_type.BEFORE}.cv_macro_f1_std", "cv_min_class_f1", "cv_macro_f1_std"} <= set(run.data.metrics)
    assert run.data.tags["git_commit"] and run.data.tags["data_digest"] == r.data_digest
    assert "cv_macro_f1" in run.data.metrics and run.inputs.dataset_inputs
    arts = {a.path for a in client.list_artifacts(r.run_id, "evaluation")}
    assert {"model_dir/model.onnx", "model_dir/manifest.json", "model_dir/CARD.md"} <= {
        a.path for a in client.list_artifacts(r.run_id, "model_dir")}
    assert {"evaluation/confusion_cv.png", "evaluation/reliability_cv.png",
            "evaluation/errors_cv.json", "evaluation/error_families.json", "evaluation/paired_vs_before.json",
            "evaluation/learning_curve.json"} <= arts
    assert (store / "mlflow.db").exists() and (store / "artifacts").is_dir()

    out = tmp_path / "models"
    m = export.export_release_type("champion", out=out / "release_type", store=store)
    assert m == r.manifest and m["mlflow_run_id"] == r.run_id  # the run's folder, restored byte for byte
    assert m["model_version"] == f"g{m['model_generation']}-{m['sha256'][:12]}"
    assert m["parity"]["label_mismatches"] == 0

    q = quotes.train(store=store, folds=3, limit=40)
    assert q.table["ranker"]["all"]["gold_quotes"] > 0
    export.export_quotes("1", out=out / "quote_speaker", store=store)

    for name in ("release_type", "quote_speaker"):
        mf = read_manifest(out / name)
        assert mf["format_version"] == 1 and len(mf["sha256"]) == 64
        load_model(name, out)
    import kzclassify
    analyzer = kzclassify.Analyzer(out)
    a = analyzer.analyze("Мемлекет басшысы кездесті.\n– Жақсы, – деді Нұрсұлтан Назарбаев.")
    assert a.quotes[0].speaker == "Нұрсұлтан Назарбаев"
    assert analyzer.info()["models"]["release_type"]["model_version"] == m["model_version"]


def test_training_rejects_an_invalid_export(tmp_path):
    from training.data import InvalidExport
    from training.release_type import train
    bad = tmp_path / "x.json"
    bad.write_text(json.dumps([{"id": 1, "data": {"text": "Мәтін."}, "annotations": []}]), encoding="utf-8")
    with pytest.raises(InvalidExport, match="no submitted annotation"):
        train(bad, store=tmp_path / "mlruns")


def test_learning_curve_subsample_is_stratified_and_keeps_small_classes():
    from training.release_type import MIN_PER_CLASS, subsample

    y = np.array(["a"] * 50 + ["b"] * 10 + ["c"] * 4 + ["d"] * 2)
    idx = np.arange(len(y))
    got = subsample(idx, y, 0.6, seed=1)
    counts = {c: int((y[got] == c).sum()) for c in "abcd"}
    assert counts == {"a": 30, "b": 6, "c": MIN_PER_CLASS, "d": 2}  # ceil(0.6 n), at least 3, all of a tiny class
    assert len(set(got)) == len(got) and set(got) <= set(idx)
    assert np.array_equal(got, subsample(idx, y, 0.6, seed=1)) and not np.array_equal(got, subsample(idx, y, 0.6, 2))
    assert np.array_equal(subsample(idx, y, 1.0, seed=0), idx)


def test_release_type_ablation_is_paired_with_the_shipped_candidate(tmp_path):
    import mlflow

    from training import release_type_ablation as ab

    out = ab.run(store=tmp_path / "mlruns", folds=3, names=["+ strong body cues"])
    assert list(out) == [ab.REFERENCE, "+ strong body cues"]
    assert out[ab.REFERENCE]["delta_macro_f1"] == [0.0] * len(out[ab.REFERENCE]["repeats"])
    d = out["+ strong body cues"]
    assert len(d["repeats"]) == 3 and 0 < d["macro_f1"] <= 1
    assert np.allclose(d["delta_macro_f1"], np.array(d["repeats"]) - np.array(out[ab.REFERENCE]["repeats"]))
    assert "+ strong body cues" in ab.table(out)
    run = mlflow.search_runs(experiment_names=[ab.EXPERIMENT], output_format="list")[0]
    assert run.info.run_name == "release-type-ablation" and "__strong_body_cues.cv_macro_f1" in run.data.metrics


def test_ablation_cli_names_an_unknown_variant_in_one_line(capsys):
    from training import release_type_ablation as ab

    for argv in (["--only", "bogus"], ["--folds", "1"]):
        with pytest.raises(SystemExit) as e:
            ab.main(argv)
        assert e.value.code == 2
    err = capsys.readouterr().err
    assert "unknown variant(s) bogus; the variants are: " + ab.REFERENCE in err and "--folds must be at least 2" in err
    assert "Traceback" not in err
