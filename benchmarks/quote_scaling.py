"""Growth of the quote stages with the text length (issue 13/11: every stage linear).

    PYTHONPATH=$PWD python benchmarks/quote_scaling.py

Generated releases of 100k and 1M characters; each stage timed apart (best of 3) on the output of
the previous one: find_quotes (rules), People (the people stage), candidates_for (features),
resolve (every quote's best candidate). Linear stages grow about 10x for 10x the text.
"""
from __future__ import annotations

import time

from kzclassify._attribution import candidates_for
from kzclassify._people import People
from kzclassify._quotes import find_quotes
from kzclassify._speakers import resolve

UNITS = {
    "guillemet quotes on one line": "«біз бірге боламыз» деді Президент. ",
    "dash paragraphs": "– Біз бірге боламыз, – деді министр.\n",
    "names, titles and roles": ("Ресей Президенті Владимир Путин мен Қасым-Жомарт Тоқаев кездесті.\n"
                                "– Біз бірге боламыз, – деді Ресей Президенті.\n– Иә, – деді спортшы.\n"),
}


def _best(f, n=3):
    best, out = 1e9, None
    for _ in range(n):
        t = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    for name, unit in UNITS.items():
        rows = []
        for n in (100_000, 1_000_000):
            text = (unit * (n // len(unit) + 1))[:n]
            tq, quotes = _best(lambda: find_quotes(text))
            tp, people = _best(lambda: People(text))
            tc, cands = _best(lambda: candidates_for(text, quotes, people))
            tr, _ = _best(lambda: [resolve(c[0].text, text, q.start, people) for q, c in zip(quotes, cands) if c])
            rows.append((tq, tp, tc, tr))
            print(f"{name:30s} {n:>9,} chars {len(quotes):>6} quotes: find_quotes {tq:.3f}s  people {tp:.3f}s  "
                  f"candidates {tc:.3f}s  resolve {tr:.3f}s")
        (a, b) = rows
        print(f"{name:30s} growth for 10x text: " + "  ".join(
            f"{k} {y / x:.1f}x" for k, x, y in zip(("find_quotes", "people", "candidates", "resolve"), a, b) if x > 1e-4))


if __name__ == "__main__":
    main()
