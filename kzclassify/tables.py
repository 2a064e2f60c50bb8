"""Analysis records → tables an analyst opens: CSV files (Excel) and one SQLite database (Datasette).

The columns come from the records themselves (``Analysis.to_dict()`` plus where the release is):
a scalar field is a column, a nested dict is flattened with ``_`` (``release_type_label``,
``release_type_scores_meeting``), a list of scalars is one text cell joined by `` | `` (``warnings``),
a list of records becomes rows of a child table (``quotes``, ``people`` and the people's
``mentions``). A field added to the records later (a review flag, a date) becomes a column without
a change here. Every row starts with the release's place: ``release_id``, ``source``, ``chunk``,
``line``, ``char_offset``, ``first_line``.

Added columns: ``person_id``/``person_key``/``person_name`` (``kzclassify._persons``: one id per
person across the run) on quotes, people and mentions; ``president_era`` on releases (``_people.era_president``: by the
release's ``date`` when the record has one, else by its text; empty when nothing decides).
"""
from __future__ import annotations

import csv
import json
import os
import sqlite3
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ._persons import PersonIndex

LOCATION = ("release_id", "source", "chunk", "line", "char_offset", "first_line")
LIST_SEP = " | "
TABLES = ("releases", "quotes", "people", "mentions", "duplicates")


def flatten(rec: dict, prefix: str = "") -> tuple[dict, dict[str, list]]:
    """(scalar columns, child lists of records) of one record; nested dicts flattened with ``_``."""
    cols: dict = {}
    children: dict[str, list] = {}
    for k, v in rec.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            sub, subchildren = flatten(v, f"{name}_")
            cols.update(sub)
            children.update(subchildren)
        elif isinstance(v, (list, tuple)) and all(isinstance(x, dict) for x in v):
            children[name] = list(v)  # an empty list too: a child table with no rows (or an empty cell, below)
        elif isinstance(v, (list, tuple)):
            cols[name] = LIST_SEP.join(_cell(x) for x in v)
        else:
            cols[name] = v
    return cols, children


def _columns(cols: dict, children: dict[str, list], keep: tuple[str, ...]) -> dict:
    """``cols`` plus every child list not in ``keep`` as one cell (JSON records joined by " | ", "" when empty)."""
    out = dict(cols)
    for name, items in children.items():
        if name not in keep:
            out[name] = LIST_SEP.join(_cell(x) for x in items)
    return out


def _cell(x) -> str:
    return json.dumps(x, ensure_ascii=False) if isinstance(x, (list, tuple, dict)) else str(x)


@dataclass
class Tables:
    """Rows of every table, columns in first-seen order (the union over the rows)."""

    rows: dict[str, list[dict]] = field(default_factory=lambda: {t: [] for t in TABLES})

    def columns(self, table: str) -> list[str]:
        seen: dict[str, None] = {}
        for row in self.rows[table]:
            for k in row:
                seen.setdefault(k, None)
        return list(seen) or list(LOCATION)


def era(rec: dict, text: str) -> str | None:
    """The sitting president of a release (``_people.era_president``, the one rule): by the record's
    ``date`` when it has one, else by the text; None when nothing decides."""
    from ._api import check_date
    from ._people import era_president
    try:
        date = check_date(rec.get("date")) if isinstance(rec.get("date"), str) else None
    except ValueError:
        date = None
    return era_president(text, date)


def build(items, duplicates=()) -> Tables:
    """Tables from ``(Release, record)`` pairs (the record as the CLI writes it) and Duplicates."""
    items = list(items)
    index = PersonIndex()
    for _, rec in items:
        for p in rec.get("people") or []:
            index.add(p["name"])
    names = index.display_names()
    t = Tables()
    for release, rec in items:
        loc = {"release_id": release.id, "source": release.source, "chunk": release.chunk, "line": release.line,
               "char_offset": release.char_offset, "first_line": release.first_line}
        body = {k: v for k, v in rec.items() if k not in ("id", "source", "chunk", "line", "char_offset", "first_line")}
        cols, children = flatten(body)
        quotes, people = children.get("quotes", []), children.get("people", [])
        row = {**loc, **_columns(cols, children, ("quotes", "people")), "n_quotes": len(quotes),
               "n_people": len(people)}
        if "release_type" in rec or "quotes" in rec:
            row["president_era"] = era(rec, release.raw or release.text)
        t.rows["releases"].append(row)
        pids = []
        for i, p in enumerate(people):
            pid = index.person_id(p["name"])
            pids.append(pid)
            pcols, pchildren = flatten(p)
            mentions = pchildren.get("mentions", [])
            t.rows["people"].append({**loc, "person_no": i, "person_id": pid, "person_key": index.key(p["name"]),
                                     "person_name": names[pid], **_columns(pcols, pchildren, ("mentions",)),
                                     "n_mentions": len(mentions)})
            for m in mentions:
                t.rows["mentions"].append({**loc, "person_no": i, "person_id": pid, "person_name": names[pid],
                                           **_columns(*flatten(m), ())})
        for i, q in enumerate(quotes):
            qcols = _columns(*flatten(q), ())
            j = q.get("person", -1)
            pid = pids[j] if isinstance(j, int) and 0 <= j < len(pids) else None
            # what an analyst reads first (the quote, who said it), then where it is, then the rest
            t.rows["quotes"].append({"release_id": release.id, "text": qcols.pop("text", None),
                                     "speaker": qcols.pop("speaker", None),
                                     "person_name": names.get(pid) if pid else None, **loc, "quote_no": i, **qcols,
                                     "person_id": pid})
    for d in duplicates:
        t.rows["duplicates"].append({"release_id": d.id, "source": d.source, "chunk": d.chunk, "line": d.line,
                                     "first_line": d.first_line, "same_as_chunk": d.first_chunk,
                                     "same_as_line": d.first_line_no})
    return t


def check_output(fmt: str, path: str | Path) -> None:
    """Refuse a destination that cannot take ``fmt`` before any work is done (OSError naming it)."""
    path = Path(path)
    if fmt == "csv" and path.exists() and not path.is_dir():
        raise OSError(f"{path}: exists and is not a folder (--format csv writes a folder of .csv files)")
    if fmt == "sqlite" and path.is_dir():
        raise OSError(f"{path}: is a folder (--format sqlite writes one database file)")
    parent = path if fmt == "csv" and path.is_dir() else path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent  # the folders that will be made: the first existing one must be writable
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise OSError(f"{path}: cannot write into {parent}")


# ---------------------------------------------------------------- CSV

def write_csv(tables: Tables, folder: str | Path) -> list[Path]:
    """``releases.csv``, ``quotes.csv``, ``people.csv``, ``mentions.csv`` (and ``duplicates.csv`` when
    there are any) in ``folder``: UTF-8 with a BOM (Excel then reads Cyrillic), one header row."""
    folder = Path(folder)
    check_output("csv", folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in TABLES:
        if name == "duplicates" and not tables.rows[name]:
            continue
        path = folder / f"{name}.csv"
        cols = tables.columns(name)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as f:
                w = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
                w.writeheader()
                for row in tables.rows[name]:
                    w.writerow({k: ("" if v is None else v) for k, v in row.items()})
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append(path)
    return written


# ---------------------------------------------------------------- SQLite

def _sql_type(values) -> str:
    kinds = {type(v) for v in values if v is not None}
    if kinds and kinds <= {int, bool}:
        return "INTEGER"
    if kinds and kinds <= {int, float, bool}:
        return "REAL"
    return "TEXT"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


VIEWS = {
    "quotes_by_person": """
        SELECT person_id, person_name, COUNT(*) AS n_quotes, COUNT(DISTINCT release_id) AS n_releases,
               GROUP_CONCAT(DISTINCT speaker) AS written_as
        FROM quotes WHERE person_id IS NOT NULL GROUP BY person_id, person_name ORDER BY n_quotes DESC""",
    "persons": """
        SELECT person_id, person_name, person_key, COUNT(DISTINCT release_id) AS n_releases,
               SUM(n_mentions) AS n_mentions, GROUP_CONCAT(DISTINCT name) AS written_as
        FROM people GROUP BY person_id, person_name, person_key ORDER BY n_releases DESC""",
    "releases_by_type": """
        SELECT release_type_label AS type, president_era, COUNT(*) AS n_releases, SUM(n_quotes) AS n_quotes
        FROM releases GROUP BY type, president_era ORDER BY n_releases DESC""",
}
# with a date column (dated releases): releases by type and month
MONTH_VIEW = """
        SELECT substr(date, 1, 7) AS month, release_type_label AS type, COUNT(*) AS n_releases,
               SUM(n_quotes) AS n_quotes
        FROM releases WHERE date IS NOT NULL AND date != '' GROUP BY month, type ORDER BY month, type"""


def write_sqlite(tables: Tables, path: str | Path) -> Path:
    """One database: tables ``releases``, ``quotes``, ``people``, ``mentions``, ``duplicates``; an FTS5
    index ``quotes_fts`` on quote text (``content=quotes``); views ``quotes_by_person``, ``persons``,
    ``releases_by_type`` and, when releases carry a ``date``, ``releases_by_type_and_month``.
    Written to a temporary file and renamed: an existing database is replaced whole or not at all."""
    path = Path(path)
    check_output("sqlite", path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        con = sqlite3.connect(tmp)
        try:
            _fill(con, tables)
        finally:
            con.close()
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _fill(con: sqlite3.Connection, tables: Tables) -> None:
    cur = con.cursor()
    for name in TABLES:
        cols = tables.columns(name)
        rows = tables.rows[name]
        defs = ", ".join(f"{_q(c)} {_sql_type(r.get(c) for r in rows)}" for c in cols)
        cur.execute(f"CREATE TABLE {_q(name)} (rowid INTEGER PRIMARY KEY, {defs})")
        cur.executemany(f"INSERT INTO {_q(name)} ({', '.join(map(_q, cols))}) VALUES ({', '.join('?' * len(cols))})",
                        [tuple(_sql_value(r.get(c)) for c in cols) for r in rows])
    for table, cols in (("releases", ("release_id",)), ("quotes", ("release_id",)), ("quotes", ("person_id",)),
                        ("people", ("person_id",)), ("people", ("release_id",)), ("mentions", ("person_id",))):
        if all(c in tables.columns(table) for c in cols):
            cur.execute(f"CREATE INDEX {table}_{'_'.join(cols)} ON {table} ({', '.join(cols)})")
    if "text" in tables.columns("quotes"):
        cur.execute("CREATE VIRTUAL TABLE quotes_fts USING fts5(text, speaker, content=quotes, content_rowid=rowid)")
        cur.execute("INSERT INTO quotes_fts(quotes_fts) VALUES ('rebuild')")
    cols = {t: set(tables.columns(t)) for t in TABLES}
    for view, sql in VIEWS.items():
        needs = {"quotes_by_person": ("quotes", {"person_id", "speaker"}),
                 "persons": ("people", {"person_id", "name"}),
                 "releases_by_type": ("releases", {"release_type_label", "president_era"})}[view]
        if needs[1] <= cols[needs[0]]:
            cur.execute(f"CREATE VIEW {view} AS {sql}")
    if {"date", "release_type_label"} <= cols["releases"]:
        cur.execute(f"CREATE VIEW releases_by_type_and_month AS {MONTH_VIEW}")
    con.commit()


def _sql_value(v):
    return json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v


# ---------------------------------------------------------------- Datasette

# what Datasette shows of each table besides its title and description (those are in data/datasette_labels.json)
_DATASETTE_SETTINGS = {
    "releases": {"facets": ["release_type_label", "president_era"], "sort_desc": "n_quotes",
                 "label_column": "first_line"},
    "quotes": {"facets": ["speaker", "person_name", "kind"], "fts_table": "quotes_fts", "fts_pk": "rowid",
               "searchmode": "raw", "label_column": "text"},
    "people": {"facets": ["person_name"], "label_column": "name"},
    "mentions": {"facets": ["person_name"]},
}


def datasette_metadata(db_name: str) -> dict:
    """A Datasette metadata document for a database written by write_sqlite: titles and descriptions in
    Kazakh and English (``kzclassify/data/datasette_labels.json``), facets (type, speaker, president era),
    full-text search on quotes."""
    with resources.files("kzclassify").joinpath("data/datasette_labels.json").open(encoding="utf-8") as f:
        labels = json.load(f)
    tables = {name: {**text, **_DATASETTE_SETTINGS.get(name, {})} for name, text in labels["tables"].items()}
    return {"title": labels["title"], "description": labels["description"],
            "databases": {db_name: {**labels["database"], "tables": tables}}}


def write_metadata(db_path: str | Path) -> Path:
    """``<database>.metadata.json`` next to the database (``datasette DB -m that-file``)."""
    db_path = Path(db_path)
    meta = db_path.with_name(db_path.stem + ".metadata.json")
    meta.write_text(json.dumps(datasette_metadata(db_path.stem), ensure_ascii=False, indent=1) + "\n",
                    encoding="utf-8")
    return meta
