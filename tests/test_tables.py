"""Tables for analysts: the corpus as CSV and SQLite holds every release and quote of the JSONL; person ids."""
import csv
import json
import sqlite3
import subprocess
import sys

import pytest

from conftest import CORPUS, ROOT
from kzclassify._persons import PersonIndex, name_words, person_key


def run(*args):
    import os
    return subprocess.run([sys.executable, "-m", "kzclassify", *args], capture_output=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd="/")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("tables")
    jl = run("analyze", str(CORPUS), "-q", "--output", str(d / "all.jsonl"))
    assert jl.returncode == 0, jl.stderr
    c = run("analyze", str(CORPUS), "-q", "--format", "csv", "--output", str(d / "csv"))
    assert c.returncode == 0 and b"Traceback" not in c.stderr, c.stderr
    s = run("analyze", str(CORPUS), "--format", "sqlite", "--output", str(d / "c.db"))
    assert s.returncode == 0 and b"datasette" in s.stderr, s.stderr
    recs = [json.loads(line) for line in (d / "all.jsonl").read_text(encoding="utf-8").splitlines()]
    return d, recs


def _csv(path):
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read Cyrillic
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_csv_and_sqlite_hold_every_release_and_quote_of_the_jsonl(outputs):
    d, recs = outputs
    assert len(recs) == 393
    releases = {(r["id"], r["source"], r["chunk"], r["line"], r["first_line"], r["release_type"]["label"])
                for r in recs}
    quotes = sorted((r["id"], q["start"], q["end"], q["text"], q["speaker"]) for r in recs for q in r["quotes"])
    people = sorted((r["id"], p["name"]) for r in recs for p in r["people"])
    assert len(quotes) == 613

    rows = _csv(d / "csv" / "releases.csv")
    assert {(r["release_id"], r["source"], int(r["chunk"]), int(r["line"]), r["first_line"], r["release_type_label"])
            for r in rows} == releases and len(rows) == 393
    q_rows = _csv(d / "csv" / "quotes.csv")
    assert sorted((r["release_id"], int(r["start"]), int(r["end"]), r["text"], r["speaker"]) for r in q_rows) == quotes
    assert sorted((r["release_id"], r["name"]) for r in _csv(d / "csv" / "people.csv")) == people
    dups = _csv(d / "csv" / "duplicates.csv")
    assert len(dups) == 390 and all(r["first_line"] and r["line"] and r["source"] for r in dups)

    con = sqlite3.connect(d / "c.db")
    assert set(con.execute("SELECT release_id, source, chunk, line, first_line, release_type_label FROM releases")) \
        == releases
    assert sorted(con.execute("SELECT release_id, start, \"end\", text, speaker FROM quotes")) == quotes
    assert sorted(con.execute("SELECT release_id, name FROM people")) == people
    # every row says where its release is
    for table in ("quotes", "people", "mentions"):
        assert con.execute(f"SELECT COUNT(*) FROM {table} WHERE release_id IS NULL OR line IS NULL "
                           "OR first_line IS NULL OR source IS NULL").fetchone()[0] == 0
    # full-text search finds a quote by a word of it; the views answer
    word = "ынтымақтастықты"
    hits = con.execute("SELECT q.text FROM quotes_fts f JOIN quotes q ON q.rowid = f.rowid "
                       "WHERE quotes_fts MATCH ?", (word,)).fetchall()
    import re
    assert hits and len(hits) == sum(word in re.findall(r"\w+", q[3].lower()) for q in quotes)
    top = con.execute("SELECT person_name, n_quotes FROM quotes_by_person LIMIT 2").fetchall()
    assert {n for n, _ in top} == {"Нұрсұлтан Назарбаев", "Қасым-Жомарт Тоқаев"}
    by_type = dict(con.execute("SELECT type, SUM(n_releases) FROM releases_by_type GROUP BY type"))
    assert sum(by_type.values()) == 393
    meta = json.loads((d / "c.metadata.json").read_text(encoding="utf-8"))
    assert meta["databases"]["c"]["tables"]["quotes"]["fts_table"] == "quotes_fts"


def test_one_person_id_across_spellings_and_releases(outputs):
    d, _ = outputs
    con = sqlite3.connect(d / "c.db")
    ids = dict(con.execute("SELECT name, person_id FROM people"))
    assert ids["Владимир Путин"] == ids["В.Путин"] == ids["Владимир Владимирович Путин"]
    assert ids["Режеп Ердоған"] == ids["Р.Ердоған"] == ids["Реджеп Тайып Ердоған"]
    assert ids["Си Цзиньпин"] == ids["С.Цзиньпин"]
    assert ids["Нұрсұлтан Назарбаев"] != ids["Дариға Назарбаева"]
    # a quote's person_id is its speaker's
    bad = con.execute("SELECT COUNT(*) FROM quotes q WHERE person_id IS NOT NULL AND NOT EXISTS "
                      "(SELECT 1 FROM people p WHERE p.release_id = q.release_id AND p.person_id = q.person_id)")
    assert bad.fetchone()[0] == 0


@pytest.mark.parametrize("names,same", [
    (["В.Путин", "Владимир Путин", "Путиннің"], True),
    (["Ердоған", "Эрдоған", "Режеп Ердоған"], True),
    (["Төраға Си Цзиньпин", "Си Цзиньпин", "Қытай Халық Республикасының Төрағасы Си Цзиньпин"], True),
    (["Қасым -Жомарт Тоқаев", "Қасым-Жомарт Тоқаев", "Қ.Тоқаев", "Тоқаевқа"], True),
    (["Н. Ә. Назарбаев", "Нұрсұлтан Әбішұлы Назарбаев", "Нұрсұлтан Назарбаев"], True),
    (["Нұрсұлтан Назарбаев", "Дариға Назарбаева"], False),
    (["Ильхам Алиев", "Гейдар Алиев"], False),
    (["Қорқыт Ата", "Қошқар Ата"], False),  # one initial, two first names: two people
])
def test_person_keys(names, same):
    ix = PersonIndex()
    for n in names + ["Владимир Путин", "Гейдар Алиев", "Ильхам Алиев"]:
        ix.add(n)
    assert (len({ix.person_id(n) for n in names}) == 1) is same
    assert name_words("Төраға Си Цзиньпин") == ["Си", "Цзиньпин"]
    assert person_key("Қасым -Жомарт Тоқаев") == person_key("Қасым-Жомарт Тоқаев") == "токаев|к"


def test_fields_added_to_the_records_become_columns_and_a_date_gives_the_month_view(tmp_path):
    """needs_review/reasons (review flags) and date (dated releases) land in the records later: the tables
    carry them without a change, and dated releases get the era by date and the type-by-month view."""
    from kzclassify.corpus import read_chunks
    from kzclassify.tables import build, write_csv, write_sqlite
    a, b = read_chunks("Мемлекет басшысы кездесті.///Президент жарлыққа қол қойды.", "x.txt").releases
    rt = {"label": "meeting", "score": 0.6, "scores": {"meeting": 0.6, "event": 0.4}}
    items = [(a, {"id": a.id, "release_type": rt, "quotes": [], "people": [], "warnings": [],
                  "needs_review": True, "reasons": ["low margin", "no speaker"], "date": "2018-05-02"}),
             (b, {"id": b.id, "release_type": {**rt, "label": "event"}, "quotes": [], "people": [], "warnings": [],
                  "needs_review": False, "reasons": [], "date": "2021-11-30"})]
    t = build(items)
    write_csv(t, tmp_path / "csv")
    with open(tmp_path / "csv" / "releases.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["needs_review"], r["reasons"], r["date"], r["president_era"]) for r in rows] == [
        ("True", "low margin | no speaker", "2018-05-02", "Нұрсұлтан Назарбаев"),
        ("False", "", "2021-11-30", "Қасым-Жомарт Тоқаев")]
    con = sqlite3.connect(write_sqlite(t, tmp_path / "t.db"))
    assert con.execute("SELECT month, type, n_releases FROM releases_by_type_and_month").fetchall() == [
        ("2018-05", "meeting", 1), ("2021-11", "event", 1)]
    assert "quotes" not in [c[1] for c in con.execute("PRAGMA table_info(releases)")]
