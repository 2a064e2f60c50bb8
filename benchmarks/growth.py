"""How the time of quote detection and of the whole analysis grows with the text.

For each generator (hostile inputs from issue 11 and a few more) this prints
the time of ``find_quotes`` (rule quote detection alone), ``extract_quotes``
(detection + attribution) and ``analyze`` (+ release type) at 10k, 100k and
1M characters (and 2M for ``analyze``), the growth from 100k to 1M (10× for a
linear stage) and, as a reference measured in the same run on the same text,
``re.findall(r"\\w+")``.

    python benchmarks/growth.py            # everything (a few minutes)
    python benchmarks/growth.py --quick    # 10k and 100k, find_quotes and extract_quotes
    python benchmarks/growth.py --only dash_lines,guillemet_open --stages find_quotes
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_W = re.compile(r"\w+")


def _repeat(unit: str):
    return lambda n: (unit * (n // len(unit) + 1))[:n]


def _half_half(n: int) -> str:
    return "«" * (n // 2) + "»" * (n - n // 2)


def _nested_words(n: int) -> str:
    # deep nesting with speech verbs after every close: «« ... «сөз» деп» деп» деп ...
    k = n // 12
    return ("«сөз " * k + "» деп" * k)[:n]


def _corpus(n: int) -> str:
    from kzclassify.corpus import read_corpus
    text = "\n".join(r.text for r in read_corpus(ROOT / "data" / "akorda_kk.txt"))
    return (text * (n // len(text) + 1))[:n]


GENERATORS = {
    # the issue 11 table
    "guillemet_open": _repeat("«"),
    "guillemet_open_word": _repeat("«а "),
    "guillemet_half_half": _half_half,
    "dedi_colon_open": _repeat("деді: «"),
    "guillemet_quote_one_line": _repeat("«біз бірге боламыз» деді Президент. "),
    "dash_lines": _repeat("– Біз бірге боламыз, – деді министр.\n"),
    "guillemet_pairs": _repeat("«а» "),
    "guillemet_spaces_comma": lambda n: "«а»" + " " * (n - 6) + ", х",
    "straight_quotes": _repeat('"біз бірге боламыз" деді "а" '),
    "colon_dash_inline": _repeat("Президент: – біз бірге боламыз, – деді ол. "),
    # more
    "one_letter": _repeat("а"),
    "dashes": _repeat("–"),
    "spaces_then_dash_verb": lambda n: " " * (n - 12) + ", – деді ол.",
    "dedi_chain": _repeat(",–деді"),
    "tail_no_period_one_line": _repeat("«біз бірге боламыз» – деді Президент "),
    "nested_with_verbs": _nested_words,
    "newlines": _repeat("\n"),
    "dash_paragraph_one_line": lambda n: "– " + ("Біз бірге боламыз, " * (n // 19 + 1))[:n - 2],
    "colon_lines": _repeat("Президент былай деді:\n– бірінші;\n"),
    "corpus": _corpus,
}


def _best(fn, text, repeat: int, budget: float) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        fn(text)
        best = min(best, time.process_time() - t0)
        if best > budget:
            break
    return best


def _stages(names):
    from kzclassify import analyze, extract_quotes
    from kzclassify._quotes import find_quotes
    stages = {"find_quotes": find_quotes, "extract_quotes": extract_quotes, "analyze": analyze}
    return {n: stages[n] for n in names}


def run(generators, stages, sizes, big_sizes, repeat=3, budget=30.0, out=print) -> list[dict]:
    """Time every stage on every generator; a stage that took over ``budget`` s is not run at larger sizes."""
    rows = []
    out(f"{'generator':26} {'stage':15} " + " ".join(f"{_fmt_n(n):>9}" for n in sizes + big_sizes)
        + f" {'growth':>7} {'ref growth':>10}")
    for g in generators:
        make = GENERATORS[g]
        texts = {n: make(n) for n in sizes + big_sizes}
        ref = {n: _best(_W.findall, texts[n], repeat, budget) for n in sizes + big_sizes}
        for name, fn in stages.items():
            times, skipped = {}, False
            for n in sizes + (big_sizes if name == "analyze" else []):
                if skipped:
                    break
                times[n] = _best(fn, texts[n], repeat, budget)
                skipped = times[n] > budget
            growth = _ratio(times, sizes)
            row = {"generator": g, "stage": name, "times": times, "growth": growth,
                   "ref_growth": _ratio(ref, sizes)}
            rows.append(row)
            cells = " ".join(f"{times[n]:9.4f}" if n in times else f"{'—':>9}" for n in sizes + big_sizes)
            out(f"{g:26} {name:15} {cells} {_fmt_r(growth):>7} {_fmt_r(row['ref_growth']):>10}")
    return rows


def _ratio(times, sizes):
    if len(sizes) < 2 or sizes[-1] not in times or sizes[-2] not in times or not times[sizes[-2]]:
        return None
    return times[sizes[-1]] / times[sizes[-2]]


def _fmt_n(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k"


def _fmt_r(r) -> str:
    return "—" if r is None else f"{r:.1f}×"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="10k and 100k only; find_quotes and extract_quotes")
    p.add_argument("--only", help="comma-separated generators (default: all)")
    p.add_argument("--stages", help="comma-separated stages: find_quotes,extract_quotes,analyze")
    p.add_argument("--budget", type=float, default=30.0, help="stop a stage after a size that took this many seconds")
    a = p.parse_args(argv)
    gens = a.only.split(",") if a.only else list(GENERATORS)
    unknown = [g for g in gens if g not in GENERATORS]
    if unknown:
        p.error(f"unknown generator(s): {', '.join(unknown)}; known: {', '.join(GENERATORS)}")
    if a.quick:
        sizes, big, stages = [10_000, 100_000], [], ["find_quotes", "extract_quotes"]
    else:
        sizes, big, stages = [10_000, 100_000, 1_000_000], [2_000_000], ["find_quotes", "extract_quotes", "analyze"]
    if a.stages:
        stages = a.stages.split(",")
    print(f"CPU seconds (process_time), best of 3; growth = time(1M or last size) / time(previous size); "
          f"ref = re.findall(r'\\w+') on the same text", flush=True)
    run(gens, _stages(stages), sizes, big, budget=a.budget, out=lambda s: print(s, flush=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
