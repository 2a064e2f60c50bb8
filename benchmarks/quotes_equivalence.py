"""Check that find_quotes gives the same spans as an earlier revision of kzclassify/_quotes.py.

The earlier file is read with ``git show REV:kzclassify/_quotes.py``; both are
run on every corpus release and on random texts built from corpus pieces and
the quote punctuation. ``--unbounded-tails`` lifts MAX_TAIL_CHARS (the one
intended change of the linear rewrite: a tail is at most 200 characters).

    python benchmarks/quotes_equivalence.py --rev 937f514 --fuzz 20000 --unbounded-tails
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ALPHABET = list("аәбғдеқңөұүіһ АБ,.!?:;–—-«»\n\n  \u00a0") + [
    "деді", "деп", " деді ", ", – деді Президент.", "«", "»", "деді: «", "атап өтті", "Назарбаев", " – ",
    "\n– ", "жеделхатында", "деген", "аталған"]


def _old_module(rev: str):
    src = subprocess.run(["git", "show", f"{rev}:kzclassify/_quotes.py"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "old_quotes.py"
    path.write_text(src, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("old_quotes", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["old_quotes"] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def _spans(fq, text):
    return [dataclasses.astuple(q) for q in fq(text)]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rev", default="937f514")
    p.add_argument("--fuzz", type=int, default=20_000, help="random texts to compare")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--unbounded-tails", action="store_true")
    a = p.parse_args(argv)
    from kzclassify import _quotes as new
    from kzclassify.corpus import read_corpus
    old = _old_module(a.rev)
    if a.unbounded_tails:
        new.MAX_TAIL_CHARS = 10 ** 9
    texts = [r.text for r in read_corpus(ROOT / "data" / "akorda_kk.txt")]
    differ = [i for i, t in enumerate(texts) if _spans(old.find_quotes, t) != _spans(new.find_quotes, t)]
    print(f"corpus: {len(texts)} releases, {sum(len(new.find_quotes(t)) for t in texts)} quotes, "
          f"{len(differ)} releases differ {differ[:10]}")
    rnd, n_diff = random.Random(a.seed), 0
    for k in range(a.fuzz):
        if k % 3 == 0:
            src = rnd.choice(texts)
            s = rnd.randrange(len(src))
            x = "".join(c if rnd.random() > 0.05 else rnd.choice(ALPHABET) for c in src[s:s + rnd.randrange(1, 600)])
        else:
            x = "".join(rnd.choice(ALPHABET) for _ in range(rnd.randrange(1, 80)))
        if _spans(old.find_quotes, x) != _spans(new.find_quotes, x):
            n_diff += 1
            if n_diff <= 3:
                print("differs:", repr(x))
    print(f"random texts: {a.fuzz}, {n_diff} differ")
    return 1 if differ or n_diff else 0


if __name__ == "__main__":
    sys.exit(main())
