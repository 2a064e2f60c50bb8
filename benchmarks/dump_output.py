"""Dump everything the NLP core computes, one JSON line per input, to check a refactor changed nothing.

For every corpus release: ``analyze(text).to_dict()`` (type, quotes, people, warnings), the ranker's
candidates for every quote (span, kind, source, person and the feature vector by name, floats as
``repr``) and the release-type model's input string (``type_input``). Then the same for a few variants
that exercise the entrance (``\\r\\n`` line ends, blank lines, no-break spaces) and the hostile
generators of ``benchmarks/growth.py`` at 5,000 characters.

    python benchmarks/dump_output.py /tmp/before.jsonl     # on the old tree
    python benchmarks/dump_output.py /tmp/after.jsonl      # on the new tree
    cmp /tmp/before.jsonl /tmp/after.jsonl                 # byte-identical, or a diff to explain

Run it from the tree to check (``PYTHONPATH=$PWD``); it writes nothing else.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GROWTH_CHARS = 5_000


def _candidates(text: str) -> list:
    from kzclassify._attribution import FEATURES, candidates_for
    from kzclassify._normalize import normalize
    from kzclassify._quotes import find_quotes
    t = normalize(text).text
    out = []
    for q, cands in zip(find_quotes(t), candidates_for(t, find_quotes(t))):
        out.append({"quote": [q.start, q.end, q.kind, q.cue, q.cue_start, q.cue_end, q.verb, q.tail, q.tail_start],
                    "candidates": [{"span": [c.start, c.end], "text": c.text, "kind": c.kind, "source": c.source,
                                    "person": c.person,
                                    "features": {n: repr(float(v)) for n, v in zip(FEATURES, c.features)}}
                                   for c in cands]})
    return out


def _record(name: str, text: str, analyzer) -> dict:
    from kzclassify._features import type_input
    return {"input": name, "analysis": analyzer.analyze(text).to_dict(), "candidates": _candidates(text),
            "type_input": type_input(text)}


def _variants(text: str) -> dict[str, str]:
    return {"crlf": text.replace("\n", "\r\n"), "blank_lines": "  " + text.replace("\n", " \n\n ") + " \n",
            "nbsp": text.replace(" ", "\u00a0", 40)}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python benchmarks/dump_output.py OUT.jsonl", file=sys.stderr)
        return 2
    from benchmarks.growth import GENERATORS
    from kzclassify import Analyzer
    from kzclassify.corpus import read_corpus
    from paths import CORPUS
    analyzer = Analyzer()
    releases = read_corpus(CORPUS)
    n = 0
    with open(argv[0], "w", encoding="utf-8") as f:
        def write(rec):
            nonlocal n
            f.write(json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n")
            n += 1
        for r in releases:
            write(_record(r.id, r.text, analyzer))
        for r in releases[::13]:
            for kind, text in _variants(r.text).items():
                write(_record(f"{r.id}/{kind}", text, analyzer))
        for g in sorted(GENERATORS):
            if g != "corpus":
                write(_record(f"growth/{g}", GENERATORS[g](GROWTH_CHARS), analyzer))
    print(f"{n} records ({len(releases)} releases) → {argv[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
