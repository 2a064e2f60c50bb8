"""Grow the people stage's word lists from data into ``kzclassify/data/lexicon.json``.

``python -m training.gazetteer`` reads the texts and the annotated speakers of
the train and validation splits (never the test split, neither its texts nor its
speakers: it stays an untouched slice) and writes three lists:

- ``first_names``: words written right before a surname-like word
  ("Владимир Путин" with -ин, "Нұрсұлтан Назарбаев" with -ев) or as the first
  word of an annotated canonical speaker;
- ``common_capitalised``: capitalised words whose lowercase form is also
  written in the corpus (common nouns: "Отан", "Жеделхатта"), first names excepted;
- ``place_words``: capitalised words written right before a title or a
  territorial noun ("Иран Президенті", "Семей полигоны") or with a locative or
  ablative ending ("Ақтауда"), minus first names and surnames.

A name run loses its leading and trailing place and common words
("Роберт Флойд Семей" → "Роберт Флойд").

Cross-validation grows the lists again inside each fold from that fold's training
releases (outside the test split) only (``fold_lists``), and scores the held-out
releases with them installed (``word_lists``): no figure rests on a name read in a
release it scores.
"""
from __future__ import annotations

import json
import re
import sys
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

from kzclassify._morphology import LO, SURNAME_LIKE, UP

ROOT = Path(__file__).resolve().parent.parent
LEXICON = ROOT / "kzclassify" / "data" / "lexicon.json"
# nouns that follow a country, body or place, not a person
_AFTER_PLACE = {
    "президенті", "президентінің", "премьер-министрі", "елшісі", "басшысы", "басшысының", "көшбасшысы", "королі",
    "әмірі", "эмирі", "үкіметі", "үкіметінің", "парламенті", "делегациясы", "елшілігі", "республикасы",
    "республикасының", "федерациясы", "федерациясының", "облысы", "облысының", "қаласы", "қаласының", "ауданы",
    "ауданының", "теңізі", "теңізінің", "өңірі", "өңірінің", "полигоны", "полигонының", "мемлекеті", "мемлекетінің",
    "корольдігі", "корольдігінің", "әмірлігі", "әмірлігінің", "министрі", "министрлігі", "вице-президенті",
}
_LOCATIVE = ("нда", "нде", "да", "де", "та", "те")  # not the ablative: letters come "from" persons too
_W = rf"[{UP}][{LO}]+(?:-[{UP}][{LO}]+)?"


def grow(texts: list[str], speakers: list[str]) -> dict[str, list[str]]:
    """The three word lists from corpus texts and annotated canonical speakers (see the module docstring)."""
    lx = json.loads(LEXICON.read_text(encoding="utf-8"))
    not_first = set(lx["title_words"]) | set(lx["roles"]) | set(lx["sentence_starts"]) | {
        w for t in lx["first_president_titles"] + lx["sitting_president_titles"] for w in t.split()}
    cap: Counter = Counter()
    low: set[str] = set()
    before_place: Counter = Counter()
    firsts: Counter = Counter()
    surnames: set[str] = set()
    for t in texts:
        cap.update(re.findall(rf"\b{_W}\b", t))
        low.update(re.findall(rf"(?<![{UP}{LO}])[{LO}][{LO}-]+", t))
        for m in re.finditer(rf"\b({_W})\s+([{UP}{LO}][{LO}-]+)", t):
            a, b = m.group(1), m.group(2)
            if b.lower() in _AFTER_PLACE:
                before_place[a] += 1
            if b[0].isupper() and SURNAME_LIKE.search(b) and not SURNAME_LIKE.search(a) and a not in not_first:
                firsts[a] += 1
                surnames.add(b)
    for s in speakers:
        w = s.split()
        if len(w) >= 2 and all(x[:1].isupper() for x in w) and "." not in s:
            firsts[w[0]] += 1
            surnames.add(w[-1])
    caps = set(cap)
    located = {w[: -len(e)] for w in caps for e in _LOCATIVE
               if w.endswith(e) and len(w) - len(e) >= 3 and w[: -len(e)] in caps}
    first_names = {w for w, c in firsts.items() if c >= 1 and not any(x in w for x in ("Президент", "Республика"))}
    common = {w for w in caps if w.lower() in low} - first_names
    place = {w for w in caps if before_place[w] or w in located} - first_names - surnames
    place = {w for w in place if not SURNAME_LIKE.search(w)}
    return {"first_names": sorted(first_names), "common_capitalised": sorted(common), "place_words": sorted(place)}


GROWN = ("first_names", "common_capitalised", "place_words")


def fold_lists(rows: list[dict]) -> dict[str, list[str]]:
    """The three lists grown from ``rows`` (texts and annotated speakers), test-split releases left out."""
    from .data import split_of
    kept = [r for r in rows if split_of(r["id"]) != "test"]
    return grow([r["text"] for r in kept], [q["speaker"] for r in kept for q in r["quotes"]])


def _clear_caches() -> None:
    """Forget everything kzclassify derived from the lexicon (word sets, name shapes, people of a text)."""
    for name, mod in list(sys.modules.items()):
        if name == "kzclassify" or name.startswith("kzclassify."):
            for obj in list(vars(mod).values()):
                if callable(getattr(obj, "cache_clear", None)) and getattr(obj, "__module__", "") == name:
                    if obj.__name__ != "lexicon":
                        obj.cache_clear()


@contextmanager
def word_lists(lists: dict[str, list[str]] | None):
    """Inside the block kzclassify reads these grown lists instead of the lexicon's (None: the lexicon's)."""
    from kzclassify._morphology import lexicon
    if lists is None:
        yield
        return
    lx = lexicon()  # the one parsed lexicon every reader derives from, cached: its grown keys are swapped
    saved = {k: lx[k] for k in GROWN}
    lx.update({k: list(lists[k]) for k in GROWN})
    _clear_caches()
    try:
        yield
    finally:
        lx.update(saved)
        _clear_caches()


def main() -> None:
    from .data import DEFAULT_EXPORT, rows_from_export
    from labeling.io import load_json

    lists = fold_lists(rows_from_export(load_json(DEFAULT_EXPORT)))
    lx = json.loads(LEXICON.read_text(encoding="utf-8"))
    lx.update(lists)
    lx.setdefault("_notes", {})["grown"] = ("first_names, common_capitalised, place_words: python -m training.gazetteer "
                                            "(train and validation releases only)")
    lx["_notes"].pop("common_capitalised", None)
    LEXICON.write_text(json.dumps(lx, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print({k: len(v) for k, v in lists.items()})


def ablation(folds: int = 5) -> dict[str, dict]:
    """Cross-validated speaker figures by how the name word lists are made: grown inside each fold from its
    training releases (what training reports), the lexicon's lists as they are (grown once from the train and
    validation releases, which CV also scores), and none; with the holdout (lists and ranker from
    train+validation, scored on the test split). ``python -m training.gazetteer --figures`` prints it."""
    from . import quotes as tq
    from .data import DEFAULT_EXPORT, all_rows, build_dataset

    rows = all_rows(build_dataset(DEFAULT_EXPORT))
    out = {}
    for name, lists_fn in (("lists grown in each fold", fold_lists), ("the lexicon's lists", lambda rs: None),
                           ("no grown lists", lambda rs: {k: [] for k in GROWN})):
        c = tq.cross_validate(rows, folds, lists_fn=lists_fn)["ranker"]
        out[name] = {g: {k: c[g].summary()[k] for k in ("gold_quotes", "speaker_acc_exact", "e2e_f1")}
                     for g in ("all", "family.role_to_person", "family.name", "family.letter_digest", "untouched")}
    held = tq.holdout(rows)["all"].summary()
    out["holdout (train+validation → test split)"] = {
        "all": {k: held[k] for k in ("gold_quotes", "speaker_acc_exact", "e2e_f1")}}
    return out


if __name__ == "__main__":
    if sys.argv[1:] == ["--figures"]:
        print(json.dumps(ablation(), indent=1))
    elif sys.argv[1:]:
        sys.exit("usage: python -m training.gazetteer [--figures]")
    else:
        main()
