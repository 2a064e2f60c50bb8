"""The public API on the shipped ONNX models: results, bad input, broken models."""
import json
import re
import shutil
import threading

import pytest

import kzclassify
from kzclassify import ModelError
from kzclassify._model import load_model

from conftest import ROOT

SAMPLE = ("Мемлекет басшысы Жапония Премьер-министрімен телефон арқылы сөйлесті.\n"
          "– Біз ынтымақтастықты дамытамыз, – деді Қасым-Жомарт Тоқаев.")


def test_classify_returns_a_label_from_the_config_and_a_distribution():
    from labeling.schema import schema
    r = kzclassify.classify(SAMPLE)
    assert r.label in schema().types
    assert set(r.scores) == set(schema().types)
    assert abs(sum(r.scores.values()) - 1) < 1e-4 and r.score == max(r.scores.values())
    assert r.to_dict()["label"] == r.label


def test_analyze_and_classify_many_agree():
    texts = [SAMPLE, "Нұрсұлтан Назарбаев Ресей Президентімен кездесті.", ""]
    many = kzclassify.classify_many(texts)
    assert [m.label for m in many[:2]] == [kzclassify.classify(t).label for t in texts[:2]]
    a = kzclassify.analyze(SAMPLE)
    # batching changes float32 sums in the last digits only
    assert a.release_type.label == many[0].label and a.release_type.score == pytest.approx(many[0].score, abs=1e-6)
    assert a.quotes[0].speaker == "Қасым-Жомарт Тоқаев"
    json.dumps(a.to_dict(), ensure_ascii=False)


def test_empty_and_whitespace_text_have_a_defined_result():
    for t in ("", "   \n\t "):
        a = kzclassify.analyze(t)
        assert a.release_type.label is None and a.quotes == () and a.warnings == ("empty text",)


def test_non_kazakh_text_is_classified_with_a_warning():
    for t in ("Президент России провел встречу с премьер-министром.", "The President met the Prime Minister."):
        a = kzclassify.analyze(t)
        assert a.release_type.label is not None
        assert "does not look like Kazakh" in a.warnings[0]


@pytest.mark.parametrize("bad,exc", [(None, TypeError), (b"bytes", TypeError), (42, TypeError)])
def test_wrong_types_are_clear_errors(bad, exc):
    with pytest.raises(exc, match="must be str"):
        kzclassify.analyze(bad)
    with pytest.raises(exc):
        kzclassify.classify_many(["ok", bad])


def test_a_10mb_release_is_handled():
    big = (SAMPLE + "\n") * (10_000_000 // len(SAMPLE))
    with pytest.raises(ValueError, match="limit for one release"):
        kzclassify.analyze(big)
    half = big[:1_900_000]
    assert kzclassify.classify(half).label is not None
    assert len(kzclassify.extract_quotes(half)) > 1000


def test_models_load_once_across_threads():
    analyzer = kzclassify.Analyzer()
    results = []
    ts = [threading.Thread(target=lambda: results.append(analyzer.classify(SAMPLE).label)) for _ in range(8)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    assert len(set(results)) == 1 and len(results) == 8


def test_info_reads_the_manifests():
    i = kzclassify.info()
    for name in ("release_type", "quote_speaker"):
        m = i["models"][name]
        assert m["ok"] and len(m["sha256"]) == 64 and m["model_version"]


@pytest.fixture
def model_copy(tmp_path):
    dst = tmp_path / "models"
    shutil.copytree(ROOT / "models", dst)
    return dst


def test_corrupt_model_file_is_named(model_copy):
    f = model_copy / "release_type" / "model.onnx"
    f.write_bytes(f.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(ModelError, match=r"release_type/model.onnx: sha256 .* does not match"):
        kzclassify.Analyzer(model_copy).classify(SAMPLE)


def test_missing_model_and_incompatible_manifest(model_copy):
    (model_copy / "quote_speaker" / "model.onnx").unlink()
    with pytest.raises(ModelError, match="quote_speaker/model.onnx: model file not found"):
        kzclassify.Analyzer(model_copy).extract_quotes(SAMPLE)
    mf = model_copy / "release_type" / "manifest.json"
    m = json.loads(mf.read_text())
    m["format_version"] = 99
    mf.write_text(json.dumps(m))
    with pytest.raises(ModelError, match="format_version 99, this kzclassify reads format 1"):
        load_model("release_type", model_copy)


def test_garbage_onnx_with_matching_sha_is_a_clear_error(model_copy):
    import hashlib
    d = model_copy / "release_type"
    (d / "model.onnx").write_bytes(b"not an onnx model")
    m = json.loads((d / "manifest.json").read_text())
    m["sha256"] = hashlib.sha256(b"not an onnx model").hexdigest()
    (d / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ModelError, match="ONNX Runtime cannot load it"):
        load_model("release_type", model_copy)


def test_labels_in_onnx_metadata_match_manifest():
    for name in ("release_type", "quote_speaker"):
        m = load_model(name, ROOT / "models")
        meta = m.session.get_modelmeta().custom_metadata_map
        assert json.loads(meta["labels"]) == m.manifest["labels"]


def _edit_manifest(d, **changes):
    mf = d / "manifest.json"
    m = json.loads(mf.read_text())
    m.update(changes)
    mf.write_text(json.dumps(m))


@pytest.mark.parametrize("name, changes, message", [
    ("release_type", {"labels": ["award", "ceremony"]}, "scores 8 classes but the manifest lists 2 labels"),
    ("release_type", {"labels": "hallo"}, "manifest 'labels' is 'hallo'; expected a list"),
    ("release_type", {"file": 5}, "manifest 'file' is 5; expected a file name"),
    ("quote_speaker", {"features": ["a", "b"]}, "features but the manifest lists 2"),
    ("release_type", {"kind": "mention-ranker"}, "in the 'release_type' folder"),
    ("release_type", {"sha256": "abc"}, "manifest 'sha256' is 'abc'"),
])
def test_manifest_schema_and_graph_are_checked_at_load(model_copy, name, changes, message):
    _edit_manifest(model_copy / name, **changes)
    with pytest.raises(ModelError, match=re.escape(message)) as e:
        kzclassify.Analyzer(model_copy).load()
    assert f"{name}/" in str(e.value)


def test_swapped_model_folders_with_matching_sha256_are_named(model_copy):
    a, b = model_copy / "release_type", model_copy / "quote_speaker"
    tmp = model_copy / "tmp"
    a.rename(tmp)
    b.rename(a)
    tmp.rename(b)
    with pytest.raises(ModelError, match="'mention-ranker' model in the 'release_type' folder"):
        kzclassify.Analyzer(model_copy).load()
    # the same with the manifests' kinds edited to match: the ONNX graph itself gives it away
    _edit_manifest(a, kind="text-classifier", name="release_type")
    _edit_manifest(b, kind="mention-ranker", name="quote_speaker")
    with pytest.raises(ModelError, match=r"release_type/model.onnx: ONNX inputs .*features"):
        kzclassify.Analyzer(model_copy).load()


def test_info_reports_a_broken_model_instead_of_hiding_it(model_copy):
    f = model_copy / "quote_speaker" / "model.onnx"
    f.write_bytes(f.read_bytes() + b"x")
    i = kzclassify.Analyzer(model_copy).info()
    assert i["models"]["release_type"]["ok"]
    assert not i["models"]["quote_speaker"]["ok"] and "sha256" in i["models"]["quote_speaker"]["error"]


def test_runner_up_and_margin():
    rt = kzclassify.classify(SAMPLE)
    assert rt.runner_up in rt.scores and rt.runner_up != rt.label
    assert rt.margin == pytest.approx(rt.score - rt.scores[rt.runner_up])
    assert 0 <= rt.margin <= 1
