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
from ._api import Analyzer, warnings_for
from ._calibration import ReviewTargetError
from ._model import ModelError
from .corpus import CorpusError, Release, decode, is_corpus_text, read_releases, releases_from_chunks, split_corpus

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
    base = {"id": r.id, "source": r.source, "index": r.index}
    if args.cmd == "quotes":
        quotes = [q for q in analyzer.extract_quotes(r.text) if q.needs_review or not args.review]
        return {**base, "quotes": [q.to_dict() for q in quotes]} if quotes or not args.review else None
    if args.cmd == "classify":
        rt = analyzer.classify(r.text)
        rec = {**base, "release_type": rt.to_dict(), "warnings": list(warnings_for(r.text))}
    else:
        a = analyzer.analyze(r.text)
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
    lines = [f"{rec['id']}  {rec['source']}#{rec['index']}"]
    rt = rec.get("release_type")
    if rt:
        second = f", runner-up {rt['runner_up']} (margin {rt['margin']:.2f})" if rt.get("runner_up") else ""
        lines.append(f"  type: {rt['label']}  ({rt['score']:.2f}{second}){_mark(rt)}")
    for q in rec.get("quotes", []):
        text = q["text"] if len(q["text"]) <= 70 else q["text"][:67] + "..."
        lines.append(f"  «{text}» — {q['speaker'] or '?'} ({q['score']:.2f}){_mark(q)}")
    for w in rec.get("warnings", []):
        lines.append(f"  warning: {w}")
    return "\n".join(lines)


def _read(path: str, fmt: str) -> list[Release]:
    if path == "-":
        if sys.stdin is None:
            raise CorpusError("<stdin>: standard input is closed (give a file path instead of -)")
        try:
            data = sys.stdin.buffer.read()
        except (OSError, ValueError) as e:
            raise CorpusError(f"<stdin>: cannot read standard input ({e})") from None
        raw = decode(data, "<stdin>")
        if fmt == "corpus" or (fmt == "auto" and is_corpus_text(raw)):
            return releases_from_chunks(split_corpus(raw), source="<stdin>")
        return releases_from_chunks([raw], source="<stdin>")
    return read_releases(path, fmt)


def _write(line: str) -> None:
    try:
        sys.stdout.write(line + "\n")
    except (OSError, ValueError, AttributeError) as e:
        raise OutputError(str(e) or type(e).__name__) from None


def cmd_releases(args, analyzer: Analyzer) -> int:
    """analyze | classify | quotes over every input; one bad input does not lose the others."""
    analyzer.load()
    failed = done = 0
    t0 = time.time()
    for path in args.paths:
        try:
            releases = _read(path, args.format)
        except (CorpusError, ValueError) as e:
            _err(f"error: {e}")
            failed += 1
            continue
        if not releases:
            _err(f"warning: {path}: no text")
        for r in releases:
            try:
                rec = _release_records(args, analyzer, r)
            except (ValueError, TypeError) as e:
                _err(f"error: {r.source}#{r.index} ({r.id}): {e}")
                failed += 1
                continue
            done += 1
            if rec is not None:
                _write(_pretty(rec) if args.pretty else json.dumps(rec, ensure_ascii=False))
            if not args.quiet and done % PROGRESS_EVERY == 0:
                _err(f"{done} releases ({done / (time.time() - t0):.0f}/s)")
    if failed and not done:
        return 2
    return 1 if failed else 0


def cmd_info(args, analyzer: Analyzer) -> int:
    """Versions and checked models; exit 3 when a model cannot be loaded."""
    report = analyzer.info()
    _write(json.dumps(report, ensure_ascii=False, indent=1))
    bad = [name for name, m in report["models"].items() if not m["ok"]]
    for name in bad:
        _err(f"error: {report['models'][name]['error']}")
    return 3 if bad else 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kzclassify", description="Release type and quotes of Kazakh press releases.",
                                epilog="exit codes: 0 ok, 1 some inputs failed, 2 usage/input error, 3 model error")
    p.add_argument("--version", action="version", version=f"kzclassify {__version__}")
    p.add_argument("--model-dir", default=None, help="a folder with release_type/ and quote_speaker/ "
                   "(default: $KZCLASSIFY_MODEL_DIR, else the models inside the package)")
    sub = p.add_subparsers(dest="cmd", required=True)
    for name, help_ in (("analyze", "release type and quotes"), ("classify", "release type only"),
                        ("quotes", "quotes with speakers only")):
        s = sub.add_parser(name, help=help_)
        s.add_argument("paths", nargs="*", default=["-"], help="text files, /// corpus files, or - for stdin")
        s.add_argument("--format", choices=["auto", "corpus", "text"], default="auto",
                       help="auto: a file containing /// is a corpus, otherwise one release")
        s.add_argument("--pretty", action="store_true", help="a table for people instead of JSON Lines")
        s.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
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
    sub.add_parser("info", help="shipped model versions, metrics and checksums (exit 3 if a model is broken)"
                   ).set_defaults(func=cmd_info)
    return p


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
