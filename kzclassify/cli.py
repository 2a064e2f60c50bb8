"""``kzclassify``: classify releases and extract quotes from the command line.

Exit codes: 0 all inputs processed; 1 some inputs failed (the others were
still written) or the output could not be written; 2 usage error or no input
could be read; 3 model missing or corrupt. Errors are one line on stderr.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

from ._version import __version__
from ._api import Analyzer, check_date, warnings_for
from ._calibration import ReviewTargetError
from ._model import ModelError
from .corpus import CorpusError, Reading, Release, read_input
from .readers import expand_inputs

PROGRESS_EVERY = 50


class OutputError(OSError):
    """Standard output cannot be written (closed, full disk, ...)."""


def _err(msg: str) -> None:
    if sys.stderr is not None:
        try:
            print(f"kzclassify: {msg}", file=sys.stderr, flush=True)
        except OSError:
            pass


def _release_records(args, analyzer: Analyzer, r: Release) -> dict | None:
    """One output record. Offsets index ``r.raw``, the release as read from its file (``--with-text``)."""
    base = r.location()
    date = getattr(args, "date", None)  # --date: the release's date decides who "Мемлекет басшысы" is
    if date is not None:
        base["date"] = date.isoformat()
    if args.with_text:
        base["text"] = r.raw
    if args.cmd == "quotes":
        quotes = [q for q in analyzer.extract_quotes(r.raw, date) if q.needs_review or not args.review]
        return ({**base, "quotes": [q.to_dict() for q in quotes], "warnings": list(warnings_for(r.raw))}
                if quotes or not args.review else None)
    if args.cmd == "classify":
        rt = analyzer.classify(r.raw)
        rec = {**base, "release_type": rt.to_dict(), "warnings": list(warnings_for(r.raw))}
    else:
        a = analyzer.analyze(r.raw, date)
        rt, rec = a.release_type, {**base, **a.to_dict()}
    if args.below is not None and (rt.label is None or rt.score >= args.below):
        return None  # --below: only the releases a person should check
    if args.review and not rec.get("needs_review", rt.needs_review):
        return None  # --review: only what the review flag sends to a person
    return rec


def _mark(d: dict) -> str:
    """The --pretty mark of a flagged type or quote: its reasons."""
    return f"  [review: {', '.join(d['reasons'])}]" if d.get("needs_review") else ""


def _pretty(rec: dict) -> str:
    lines = [f"{rec['id']}  {rec['source']}:{rec['line']} (chunk {rec['chunk']})  {rec['first_line'][:60]}"]
    rt = rec.get("release_type")
    if rt:
        second = f", runner-up {rt['runner_up']} (margin {rt['margin']:.2f})" if rt.get("runner_up") else ""
        lines.append(f"  type: {rt['label']}  ({rt['score']:.2f}{second}){_mark(rt)}")
    for q in rec.get("quotes", []):
        text = q["text"] if len(q["text"]) <= 70 else q["text"][:67] + "..."
        lines.append(f"  «{' '.join(text.split())}» — {q['speaker'] or '?'} ({q['score']:.2f}){_mark(q)}")
    for w in rec.get("warnings", []):
        lines.append(f"  warning: {w}")
    return "\n".join(lines)


def _read(path: str, args) -> Reading:
    if path == "-":
        if sys.stdin is None:
            raise CorpusError("<stdin>: standard input is closed (give a file path instead of -)")
        try:
            data = sys.stdin.buffer.read()
        except (OSError, ValueError) as e:
            raise CorpusError(f"<stdin>: cannot read standard input ({e})") from None
        return read_input("<stdin>", args.split, args.encoding, data=data)
    return read_input(path, args.split, args.encoding)


def _write(line: str, out=None) -> None:
    try:
        (out or sys.stdout).write(line + "\n")
    except BrokenPipeError:
        raise  # the reader left (`| head`): main ends quietly
    except (OSError, ValueError, AttributeError) as e:
        raise OutputError(str(e) or type(e).__name__) from None


def _report_duplicates(reading: Reading, path: str) -> None:
    dups = reading.duplicates
    if not dups:
        return
    shown = ", ".join(f"chunk {d.chunk} (line {d.line}) = chunk {d.first_chunk} (line {d.first_line_no})"
                      for d in dups[:3])
    more = f", ... ({len(dups) - 3} more)" if len(dups) > 3 else ""
    _err(f"warning: {path}: {len(dups)} duplicate release{'s' * (len(dups) != 1)} skipped "
         f"({len(reading.releases)} distinct kept): {shown}{more}")


def _tables_output_ok(args) -> bool:
    """--format csv|sqlite: --output is given and can be written (else the error is reported)."""
    if not args.output:
        _err(f"error: --format {args.format} needs --output (a folder for csv, a database file for sqlite)")
        return False
    from .tables import check_output
    try:
        check_output(args.format, args.output)
    except OSError as e:
        _err(f"error: {e}")
        return False
    return True


def _open_reading(path: str, args) -> Reading | None:
    """One input, read, with its notes, skipped duplicates and emptiness reported; None (reported) when it
    cannot be read."""
    try:
        reading = _read(path, args)
    except (CorpusError, ValueError) as e:
        _err(f"error: {e}")
        return None
    for note in reading.notes:
        _err(f"{'warning' if reading.kind == 'html' else 'note'}: {note}")
    _report_duplicates(reading, path)
    if not reading.releases:
        _err(f"warning: {path}: no text")
    return reading


def cmd_releases(args, analyzer: Analyzer) -> int:
    """analyze | classify | quotes over every input; one bad input does not lose the others."""
    analyzer.load()
    tables = args.format in ("csv", "sqlite")
    if tables and not _tables_output_ok(args):
        return 2
    failed = done = 0
    t0 = time.time()
    try:
        paths, notes = expand_inputs(args.paths)
    except CorpusError as e:
        _err(f"error: {e}")
        return 2
    for note in notes:
        _err(f"note: {note}")
    collected, duplicates = [], []
    out = _open_output(args) if not tables else None
    try:
        for path in paths:
            reading = _open_reading(path, args)
            if reading is None:
                failed += 1
                continue
            duplicates += reading.duplicates
            for r in reading.releases:
                try:
                    rec = _release_records(args, analyzer, r)
                except (ValueError, TypeError) as e:
                    _err(f"error: {r.source}:{r.line} (chunk {r.chunk}, {r.id}): {e}")
                    failed += 1
                    continue
                done += 1
                if rec is not None:
                    if tables:
                        collected.append((r, rec))
                    else:
                        _write(_pretty(rec) if args.pretty else json.dumps(rec, ensure_ascii=False), out)
                if not args.quiet and done % PROGRESS_EVERY == 0:
                    _err(f"{done} releases ({done / (time.time() - t0):.0f}/s)")
    finally:
        if out is not None and out is not sys.stdout:
            out.close()
    if tables:
        _write_tables(args, collected, duplicates)
    if failed and not done:
        return 2
    return 1 if failed else 0


def _open_output(args):
    if not args.output or args.output == "-":
        return sys.stdout
    try:
        return open(args.output, "w", encoding="utf-8")
    except OSError as e:
        raise OutputError(f"{args.output}: {e.strerror or e}") from None


def _write_tables(args, collected, duplicates) -> None:
    import sqlite3

    from .tables import build, write_csv, write_metadata, write_sqlite
    t = build(collected, duplicates)
    n = {name: len(rows) for name, rows in t.rows.items()}
    try:
        if args.format == "csv":
            files = write_csv(t, args.output)
            what = ", ".join(f"{f.name} ({n[f.stem]} rows)" for f in files)
        else:
            db = write_sqlite(t, args.output)
            meta = write_metadata(db)
            what = (f"{db} ({', '.join(f'{k} {v}' for k, v in n.items())}); browse it: "
                    f"datasette {db} -m {meta}")
    except OSError as e:
        raise OutputError(str(e) if str(args.output) in str(e) else f"{args.output}: {e}") from None
    except sqlite3.Error as e:
        raise OutputError(f"{args.output}: {e}") from None
    if not args.quiet:
        _err(f"wrote {what}")


def cmd_info(args, analyzer: Analyzer) -> int:
    """Versions and checked models; exit 3 when a model cannot be loaded."""
    report = analyzer.info()
    _write(json.dumps(report, ensure_ascii=False, indent=1))
    bad = [name for name, m in report["models"].items() if not m["ok"]]
    for name in bad:
        _err(f"error: {report['models'][name]['error']}")
    return 3 if bad else 0


def cmd_evaluate(args, analyzer: Analyzer) -> int:
    """Scores of the models on the user's gold JSONL (kzclassify/gold.py documents the format)."""
    from .gold import evaluate, format_table, read_gold
    try:
        gold = read_gold(args.gold)
    except (CorpusError, ValueError) as e:
        _err(f"error: {e}")
        return 2
    try:
        report = evaluate(analyzer, gold)
    except (ValueError, TypeError) as e:  # a release over MAX_CHARS, ...
        _err(f"error: {args.gold}: {e}")
        return 2
    _write(json.dumps(report, ensure_ascii=False, indent=1) if args.json else format_table(report))
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kzclassify", description="Release type and quotes of Kazakh press releases.",
                                epilog="exit codes: 0 ok, 1 some inputs failed, 2 usage/input error, 3 model error")
    p.add_argument("--version", action="version", version=f"kzclassify {__version__}")
    p.add_argument("--model-dir", default=None, help="a folder with release_type/ and quote_speaker/ "
                   "(default: $KZCLASSIFY_MODEL_DIR, else the models inside the package)")
    sub = p.add_subparsers(dest="cmd", required=True)
    for name, help_ in (("analyze", "release type and quotes"), ("classify", "release type only"),
                        ("quotes", "quotes with speakers only")):
        s = sub.add_parser(name, help=help_, description=f"{help_}; offsets (start/end) index the release "
                           "text as read from its file (--with-text gives it)")
        s.add_argument("paths", nargs="*", default=["-"], help="text files (.txt in UTF-8/UTF-16/--encoding, "
                       ".docx, saved .html pages), /// corpus files, folders of them, or - for stdin")
        s.add_argument("--format", choices=["jsonl", "csv", "sqlite", "auto", "corpus", "text"], default="jsonl",
                       help="output: jsonl (default), csv (a folder of tables, --output), sqlite (one database, "
                            "--output); auto/corpus/text are the old spelling of --split")
        s.add_argument("--output", "-o", default=None, metavar="PATH",
                       help="where to write: a file for jsonl (default stdout), a folder for csv, a .db for sqlite")
        s.add_argument("--split", choices=["auto", "corpus", "text"], default="auto",
                       help="auto: a file containing /// is a corpus, otherwise one release")
        s.add_argument("--encoding", default=None, metavar="CODEC",
                       help="the encoding of text files without a byte-order mark, e.g. cp1251 or kz1048 "
                            "(default: UTF-8; BOMs and UTF-16 are detected)")
        s.add_argument("--with-text", action="store_true", help="put each release's text in the JSON: "
                       "text[start:end] is the quote")
        s.add_argument("--pretty", action="store_true", help="a table for people instead of JSON Lines")
        s.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
        if name != "classify":
            s.add_argument("--date", type=_date, default=None, metavar="YYYY-MM-DD",
                           help="the release's date: who the sitting president is (the guide's switch: 2019-03-20)")
        s.add_argument("--review", action="store_true",
                       help="only what needs a person's review (needs_review), with the reasons")
        s.add_argument("--review-target", type=_review_target, default=None, metavar="P",
                       help="accuracy the review flag holds on what it does not flag (CV), for both models, or "
                            "release_type=P,quote_speaker=Q (default: the models' own, 0.98 and 0.99)")
        if name != "quotes":
            s.add_argument("--below", type=_probability, default=None, metavar="P",
                           help="only releases whose type probability is below P (0-1): the ones to send to a person")
        else:
            s.set_defaults(below=None)
        s.set_defaults(func=cmd_releases)
    ev = sub.add_parser("evaluate", help="score the models on your own annotated releases (gold JSONL)",
                        description="GOLD: one JSON object per line: {\"text\": ..., \"type\": ..., \"quotes\": "
                                    "[{\"start\": ..., \"end\": ..., \"speaker\": ...}]} (docs/analyst.md); a Label "
                                    "Studio export converts with: python -m labeling gold EXPORT -o gold.jsonl")
    ev.add_argument("gold", help="the gold JSONL file")
    ev.add_argument("--json", action="store_true", help="the scores as JSON instead of a table")
    ev.set_defaults(func=cmd_evaluate)
    sub.add_parser("info", help="shipped model versions, metrics and checksums (exit 3 if a model is broken)"
                   ).set_defaults(func=cmd_info)
    return p


def _date(s: str):
    try:
        return check_date(s)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _review_target(s: str) -> float | dict:
    """``0.95`` (both models) or ``release_type=0.95,quote_speaker=0.97``."""
    if "=" not in s:
        return _probability(s)
    out = {}
    for part in s.split(","):
        key, _, value = part.partition("=")
        if key.strip() not in ("release_type", "quote_speaker"):
            raise argparse.ArgumentTypeError(f"{key.strip()!r} is not a model (release_type or quote_speaker)")
        out[key.strip()] = _probability(value.strip())
    return out


def _probability(s: str) -> float:
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{s!r} is not a number") from None
    if not 0.0 <= v <= 1.0:
        raise argparse.ArgumentTypeError(f"{s} is not between 0 and 1")
    return v


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as e:  # argparse: --help/--version (0) or a usage error (2), already printed
        return int(e.code or 0)
    if getattr(args, "format", None) in ("auto", "corpus", "text"):
        args.split, args.format = args.format, "jsonl"
    if sys.stdout is None:
        _err("error: standard output is closed; redirect it to a file")
        return 2
    try:
        code = args.func(args, Analyzer(args.model_dir, review_target=getattr(args, "review_target", None)))
        sys.stdout.flush()
        return code
    except ModelError as e:
        _err(f"error: {e}")
        return 3
    except ReviewTargetError as e:
        _err(f"error: --review-target: {e}")
        return 2
    except BrokenPipeError:  # `kzclassify ... | head`: the reader left, which is not an error
        _silence_stdout()
        return 0
    except (OutputError, OSError, ValueError) as e:
        _err(f"error: cannot write the output: {e}")
        _silence_stdout()
        return 1
    except KeyboardInterrupt:
        return 130


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


if __name__ == "__main__":
    raise SystemExit(main())
