"""``kzclassify``: classify releases and extract quotes from the command line.

Exit codes: 0 all inputs processed; 1 some inputs failed (the others were
still written); 2 usage error or no input could be read; 3 model missing or corrupt.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from . import __version__
from ._api import analyze, classify_many, extract_quotes, info, warnings_for
from ._model import ModelError
from .corpus import CorpusError, Release, decode, is_corpus_text, releases_from_chunks, split_corpus, read_releases

PROGRESS_EVERY = 50


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kzclassify", description="Release type and quotes of Kazakh press releases.",
                                epilog="exit codes: 0 ok, 1 some inputs failed, 2 usage/input error, 3 model error")
    p.add_argument("--version", action="version", version=f"kzclassify {__version__}")
    sub = p.add_subparsers(dest="cmd", required=True)
    for name, help_ in (("analyze", "release type and quotes"), ("classify", "release type only"),
                        ("quotes", "quotes with speakers only")):
        s = sub.add_parser(name, help=help_)
        s.add_argument("paths", nargs="*", default=["-"], help="text files, /// corpus files, or - for stdin")
        s.add_argument("--format", choices=["auto", "corpus", "text"], default="auto",
                       help="auto: a file containing /// is a corpus, otherwise one release")
        s.add_argument("--pretty", action="store_true", help="a table for people instead of JSON Lines")
        s.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    sub.add_parser("info", help="shipped model versions, metrics and checksums")
    return p


def _read(path: str, fmt: str) -> list[Release]:
    if path == "-":
        raw = decode(sys.stdin.buffer.read(), "<stdin>")
        if fmt == "corpus" or (fmt == "auto" and is_corpus_text(raw)):
            return releases_from_chunks(split_corpus(raw), source="<stdin>")
        return releases_from_chunks([raw], source="<stdin>")
    return read_releases(path, fmt)


def _record(cmd: str, r: Release) -> dict:
    base = {"id": r.id, "source": r.source, "index": r.index}
    if cmd == "classify":
        return {**base, "release_type": classify_many([r.text])[0].to_dict(), "warnings": list(warnings_for(r.text))}
    if cmd == "quotes":
        return {**base, "quotes": [q.to_dict() for q in extract_quotes(r.text)]}
    return {**base, **analyze(r.text).to_dict()}


def _pretty(rec: dict) -> str:
    lines = [f"{rec['id']}  {rec['source']}#{rec['index']}"]
    rt = rec.get("release_type")
    if rt:
        lines.append(f"  type: {rt['label']}  ({rt['score']:.2f})")
    for q in rec.get("quotes", []):
        text = q["text"] if len(q["text"]) <= 70 else q["text"][:67] + "..."
        lines.append(f"  «{text}» — {q['speaker'] or '?'} ({q['score']:.2f})")
    for w in rec.get("warnings", []):
        lines.append(f"  warning: {w}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _main(args)
    except BrokenPipeError:  # `kzclassify ... | head`: the reader left, which is not an error
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 130


def _main(args) -> int:
    out = sys.stdout
    try:
        if args.cmd == "info":
            out.write(json.dumps(info(), ensure_ascii=False, indent=1) + "\n")
            return 0
        # fail early, with one clear line, if a model is missing or corrupt
        from ._model import get_model
        get_model("release_type")
        get_model("quote_speaker")
    except ModelError as e:
        print(f"kzclassify: error: {e}", file=sys.stderr)
        return 3
    failed = done = 0
    t0 = time.time()
    for path in args.paths:
        try:
            releases = _read(path, args.format)
        except (CorpusError, ValueError) as e:
            print(f"kzclassify: error: {e}", file=sys.stderr)
            failed += 1
            continue
        if not releases:
            print(f"kzclassify: warning: {path}: no text", file=sys.stderr)
        for r in releases:
            try:
                rec = _record(args.cmd, r)
            except (ValueError, TypeError) as e:
                print(f"kzclassify: error: {r.source}#{r.index} ({r.id}): {e}", file=sys.stderr)
                failed += 1
                continue
            out.write((_pretty(rec) if args.pretty else json.dumps(rec, ensure_ascii=False)) + "\n")
            done += 1
            if not args.quiet and done % PROGRESS_EVERY == 0:
                print(f"kzclassify: {done} releases ({done / (time.time() - t0):.0f}/s)", file=sys.stderr)
    out.flush()
    if failed and not done:
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
