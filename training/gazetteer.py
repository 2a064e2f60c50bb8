"""Grow the people stage's word lists from data into ``kzclassify/data/lexicon.json``.

``python -m training.gazetteer`` reads the corpus (unannotated text) and the
annotated speakers of the train and validation splits (never the test split,
which stays an untouched slice) and writes three lists:

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
"""
from __future__ import annotations

import json
import re
from collections import Counter
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


def main() -> None:
    from kzclassify.corpus import read_corpus

    from .data import DEFAULT_EXPORT, rows_from_export
    from labeling.io import load_json

    texts = [r.text for r in read_corpus(ROOT / "data" / "akorda_kk.txt")]
    rows = rows_from_export(load_json(DEFAULT_EXPORT))
    speakers = [q["speaker"] for r in rows if r["split"] != "test" for q in r["quotes"]]
    lists = grow(texts, speakers)
    lx = json.loads(LEXICON.read_text(encoding="utf-8"))
    lx.update(lists)
    lx.setdefault("_notes", {})["grown"] = "first_names, common_capitalised, place_words: python -m training.gazetteer"
    lx["_notes"].pop("common_capitalised", None)
    LEXICON.write_text(json.dumps(lx, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print({k: len(v) for k, v in lists.items()})


if __name__ == "__main__":
    main()


def ablation(folds: int = 5) -> dict[str, dict]:
    """Cross-validated speaker accuracy with and without the grown word lists (the choice the lists rest on)."""
    from kzclassify._morphology import lexicon_lists

    from . import quotes as tq
    from .data import DEFAULT_EXPORT, all_rows, build_dataset

    rows = all_rows(build_dataset(DEFAULT_EXPORT))
    out = {}
    for name in ("grown lists", "no grown lists"):
        lists = {k: [] for k in ("first_names", "place_words", "common_capitalised")} if name == "no grown lists" else {}
        with lexicon_lists(**lists):  # every cache built from the lists is cleared on entry and exit
            c = tq.cross_validate(rows, folds)["ranker"]
        out[name] = {g: {k: c[g].summary()[k] for k in ("speaker_acc_exact", "e2e_f1")}
                     for g in ("all", "family.role_to_person", "family.name", "family.letter_digest", "untouched")}
    return out
