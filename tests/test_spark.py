"""``python -m training score``: the registered pyfunc through mlflow.pyfunc.spark_udf on
Spark local[2] (and in-process), checked against kzclassify.analyze on every corpus release."""
import json
import os
import subprocess
import sys

import pytest

from conftest import CORPUS, ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    import mlflow
    from training.pyfunc import register_pyfunc
    before = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    d = tmp_path_factory.mktemp("store")
    register_pyfunc(store=d)
    yield d
    mlflow.set_tracking_uri(before[0])
    mlflow.set_registry_uri(before[1])


@pytest.fixture(scope="module")
def expected():
    import kzclassify
    from kzclassify.corpus import read_corpus
    return {r.id: kzclassify.analyze(r.text).to_dict() for r in read_corpus(CORPUS)}


def score(store, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "PYSPARK_"))}
    env.update(PYTHONPATH=str(ROOT), PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable)
    return subprocess.run([sys.executable, "-m", "training", "score", "--store", str(store), *map(str, args)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)


def rows(path):
    import pyarrow.parquet as pq
    return pq.read_table(path).to_pylist()


def check(got, expected):
    keys = list(next(iter(expected.values())))
    assert sorted(r["id"] for r in got) == sorted(expected)
    bad = [r["id"] for r in got if {k: r[k] for k in keys} != expected[r["id"]]]
    assert not bad, (len(bad), bad[:3])


def test_spark_scoring_equals_analyze_on_every_release(store, expected, tmp_path):
    out = tmp_path / "scored.parquet"
    r = score(store, "--input", CORPUS, "--output", out, "--engine", "spark", "--master", "local[2]")
    assert r.returncode == 0, r.stderr[-3000:]
    assert out.is_dir() and list(out.glob("part-*.parquet"))
    assert f"scoring {len(expected)} releases in" in r.stderr and f"wrote {len(expected)} rows" in r.stderr
    got = rows(out)
    check(got, expected)
    assert any(g["quotes"] for g in got)


def test_spark_reads_parquet_and_keeps_input_columns(store, expected, tmp_path):
    import pandas as pd
    from kzclassify.corpus import read_corpus
    rels = read_corpus(CORPUS)[:40]
    src = tmp_path / "in.parquet"
    pd.DataFrame({"id": [r.id for r in rels], "text": [r.text for r in rels],
                  "year": list(range(40))}).to_parquet(src)
    out = tmp_path / "out.parquet"
    r = score(store, "--input", src, "--output", out, "--engine", "spark", "--partitions", "3", "-q")
    assert r.returncode == 0, r.stderr[-3000:]
    got = rows(out)
    assert sorted(g["year"] for g in got) == list(range(40))
    check(got, {r.id: expected[r.id] for r in rels})
    # a second run into the same output needs --overwrite
    again = score(store, "--input", src, "--output", out, "--engine", "spark", "-q")
    assert again.returncode == 2 and "exists (use --overwrite)" in again.stderr and "Traceback" not in again.stderr


def test_local_engine_on_jsonl_matches(store, expected, tmp_path):
    from kzclassify.corpus import read_corpus
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": r.id, "text": r.text}, ensure_ascii=False) + "\n"
                           for r in read_corpus(CORPUS)), encoding="utf-8")
    out = tmp_path / "out.parquet"
    r = score(store, "--input", src, "--output", out, "--engine", "local")
    assert r.returncode == 0, r.stderr[-3000:]
    assert f"scored {len(expected)}/{len(expected)} releases" in r.stderr
    check(rows(out), expected)


@pytest.mark.parametrize("engine", ["local", "spark"])
def test_a_date_field_decides_the_president(store, tmp_path, engine):
    text = "Мемлекет басшысы Ақордада жиын өткізді.\n– Біз бірге боламыз, – деді Президент."
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in (
        {"id": "a", "text": text, "date": "2020-05-01"}, {"id": "b", "text": text, "date": "2018-05-01"},
        {"id": "c", "text": text, "date": None})), encoding="utf-8")
    out = tmp_path / "out.parquet"
    r = score(store, "--input", src, "--output", out, "--engine", engine)
    assert r.returncode == 0, r.stderr[-3000:]
    got = {row["id"]: (row["date"], row["quotes"][0]["speaker"]) for row in rows(out)}
    assert got == {"a": ("2020-05-01", "Қасым-Жомарт Тоқаев"), "b": ("2018-05-01", "Нұрсұлтан Назарбаев"),
                   "c": (None, "Президент")}


@pytest.mark.parametrize("engine", ["local", "spark"])
def test_bad_input_gives_a_clear_error(store, tmp_path, engine):
    import pandas as pd
    cases = []
    p = tmp_path / "notext.parquet"
    pd.DataFrame({"body": ["x"]}).to_parquet(p)
    cases.append((p, "no 'text' column"))
    p = tmp_path / "garbage.jsonl"
    p.write_text("this is not json\n", encoding="utf-8")
    cases.append((p, "garbage.jsonl"))
    p = tmp_path / "nulls.parquet"
    pd.DataFrame({"text": ["Мемлекет басшысы", None]}).to_parquet(p)
    cases.append((p, "no text"))
    cases.append((tmp_path / "missing.txt", "no such file"))
    if engine == "spark":  # each case starts a JVM: only the ones Spark reads its own way
        cases = cases[1:3]
    for src, msg in cases:
        r = score(store, "--input", src, "--output", tmp_path / f"o-{src.stem}.parquet", "--engine", engine, "-q")
        assert r.returncode == 2 and msg in r.stderr and "Traceback" not in r.stderr, (src, r.stderr[-2000:])


def test_unknown_model_is_a_clear_error(store, tmp_path):
    r = score(store, "--input", CORPUS, "--output", tmp_path / "o.parquet", "--engine", "local",
              "--model", "models:/kzclassify@nosuchalias")
    assert r.returncode == 2 and "cannot load models:/kzclassify@nosuchalias" in r.stderr
    assert "Traceback" not in r.stderr


def test_overwrite_replaces_this_commands_own_output(store, expected, tmp_path):
    """--overwrite replaces what `training score` wrote (its marker), for either engine, over either kind."""
    from kzclassify.corpus import read_corpus
    from training.score import written_by_score
    rels = read_corpus(CORPUS)[:5]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": r.id, "text": r.text}, ensure_ascii=False) + "\n" for r in rels),
                   encoding="utf-8")
    out = tmp_path / "out.parquet"
    for engine in ("local", "local", "spark", "spark", "local"):
        r = score(store, "--input", src, "--output", out, "--engine", engine, "--overwrite", "-q")
        assert r.returncode == 0, r.stderr[-3000:]
        assert written_by_score(out) and out.is_dir() == (engine == "spark")
        check(rows(out), {r.id: expected[r.id] for r in rels})
