"""Mention → canonical speaker (ANNOTATION_GUIDE.md section 3), by transparent rules.

The lexicon (titles, roles, case endings, era cues) is data in
``kzclassify/data/lexicon.json``, not literals here.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

UP = "А-ЯӘҒҚҢӨҰҮҺІЁ"
LO = "а-яәғқңөұүһіё"
_WORD = re.compile(rf"[{UP}{LO}A-Za-z][{UP}{LO}A-Za-z'-]*")
_CAP = re.compile(rf"^[{UP}]")
_INITIALS = re.compile(rf"^((?:[{UP}]\.\s?)+)([{UP}][{LO}-]+)$")


@lru_cache(maxsize=1)
def lexicon() -> dict:
    with resources.files("kzclassify").joinpath("data/lexicon.json").open(encoding="utf-8") as f:
        return json.load(f)


@dataclass(frozen=True)
class Resolution:
    speaker: str
    how: str  # "name", "initials", "title-era", "first-president", "role-named", "role", "author", "previous"
    score: float


def _tokens(text: str) -> set[str]:
    return set(_WORD.findall(text))


def nominative(word: str, text: str) -> str:
    """Strip a Kazakh case ending from a name token, checked against the release.

    The shortest form that also occurs as a whole word in ``text`` wins;
    otherwise only endings of two or more letters are stripped.
    """
    toks = _tokens(text)
    endings = sorted(set(lexicon()["case_endings"]), key=len, reverse=True)
    cands = [word[: -len(e)] for e in endings if word.endswith(e) and len(word) - len(e) >= 3]
    seen = [c for c in cands if c in toks]
    if seen:
        return min(seen, key=len)
    if word in toks or not cands:
        return word
    long = [word[: -len(e)] for e in endings if len(e) >= 2 and word.endswith(e) and len(word) - len(e) >= 3]
    return long[0] if long else word


def _title_words() -> set[str]:
    lx = lexicon()
    words = set()
    for t in lx["first_president_titles"] + lx["sitting_president_titles"] + lx["roles"]:
        words.update(t.split())
    return words


_STOP_FIRST = {"Қазақстан", "Республикасы", "Республикасының", "Президенті", "Президент", "Мемлекет",
               "Елбасы", "Премьер-министр", "Премьер-Министр", "Төрағасы", "Министрі", "Әкімі", "Сенат",
               "Мәжіліс", "Ресей", "Қытай", "АҚШ", "ҚР", "ҚХР", "Бас", "Тұңғыш", "Жоғарғы", "Кездесу",
               "Сондай-ақ", "Сонымен", "Осы", "Бұл", "Ал", "Оның", "Біз", "Мен", "Сіз", "Алматы", "Астана"}


def full_name(surname: str, text: str) -> str:
    """Fullest written form "First Surname" of ``surname`` in ``text``."""
    best = surname
    counts: dict[str, int] = {}
    for m in re.finditer(rf"([{UP}][{LO}]+(?:-[{UP}][{LO}]+)?)\s+{re.escape(surname)}(?![{LO}])", text):
        first = m.group(1)
        if first in _STOP_FIRST or first in _title_words() or first.endswith(("ның", "нің", "тың", "тің", "дың", "дің")):
            continue
        counts[first] = counts.get(first, 0) + 1
    if counts:
        first = max(counts, key=lambda k: (counts[k], len(k)))
        best = f"{first} {surname}"
    return best


def _surname_stem_forms(surname: str, text: str) -> str:
    return nominative(surname, text)


def era_president(text: str) -> str:
    """The sitting president in a release, from names and era cues in it."""
    lx = lexicon()
    naz, tok = lx["presidents"]["nazarbayev"], lx["presidents"]["tokayev"]
    tokayev_as_other = any(re.search(re.escape(r) + r"\s+(?:Қ\.\s?|Қасым-Жомарт\s+)?Тоқаев", text)
                           for r in lx["non_president_roles_before_tokayev"])
    if "Тоқаев" in text and not tokayev_as_other:
        return tok
    if any(c in text for c in lx["tokayev_era_cues"]) and "Назарбаев" not in text.replace("Елбасы Нұрсұлтан Назарбаев", ""):
        return tok
    if "Назарбаев" in text or any(c in text for c in lx["nazarbayev_era_cues"]):
        return naz
    return tok


def _strip_phrase(mention: str, text: str) -> str:
    words = mention.split()
    return " ".join(words)


def resolve_name(mention: str, text: str) -> Resolution | None:
    """Resolve a mention that contains a person's name (possibly inflected)."""
    words = mention.replace("\u00a0", " ").split()
    if not words:
        return None
    m = _INITIALS.match(words[-1]) or (len(words) >= 2 and _INITIALS.match(words[-2] + words[-1]))
    if m:
        surname = nominative(m.group(2), text)
        name = full_name(surname, text)
        if name == surname:
            return Resolution(f"{m.group(1).replace(' ', '')}{surname}", "initials", 0.8)
        return Resolution(name, "initials", 0.85)
    caps = [w for w in words if _CAP.match(w) and w not in _title_words()]
    if not caps:
        return None
    # "Си Цзиньпин", "Қасым-Жомарт Тоқаев", "Александр Лукашенконың"
    last = nominative(caps[-1], text)
    if len(caps) >= 2:
        first = caps[-2]
        if first not in _STOP_FIRST and not first.endswith(("ның", "нің", "тың", "тің", "дың", "дің")):
            return Resolution(f"{first} {last}", "name", 0.95)
    return Resolution(full_name(last, text), "name", 0.85)


def classify_mention(mention: str) -> str:
    """Mention kind: "first_president", "president", "pronoun", "name", "role" or "none"."""
    lx = lexicon()
    m = " ".join(mention.split())
    if not m:
        return "none"
    if m in lx["first_president_titles"]:
        return "first_president"
    if m in lx["sitting_president_titles"]:
        return "president"
    if m in lx["pronouns"]:
        return "pronoun"
    words = m.split()
    if words[-1] in lx["roles"] or words[-1][:1].islower() and not any(_INITIALS.match(w) for w in words):
        return "role"
    if any(_INITIALS.match(w) for w in words) or any(_CAP.match(w) and w not in _title_words() and w not in _STOP_FIRST for w in words):
        return "name"
    return "role"


def resolve(mention: str, text: str, position: int = 0) -> Resolution:
    """Resolve a speaker mention to a canonical person name.

    ``text`` is the whole release (names and era cues are looked up in it);
    ``position`` is where the quote is, for roles introduced earlier.
    """
    lx = lexicon()
    kind = classify_mention(mention)
    m = " ".join(mention.split())
    if kind == "first_president":
        return Resolution(lx["presidents"]["nazarbayev"], "first-president", 0.95)
    if kind == "president":
        for name in (lx["presidents"]["tokayev"], lx["presidents"]["nazarbayev"]):
            if name in m:
                return Resolution(name, "name", 0.95)
        return Resolution(era_president(text), "title-era", 0.9)
    if kind == "name":
        r = resolve_name(m, text)
        if r:
            return r
    if kind == "role":
        r = resolve_role(m, text, position)
        if r:
            return r
        return Resolution(m, "role", 0.3)
    return Resolution(m, "unresolved", 0.1)


def resolve_role(role: str, text: str, position: int) -> Resolution | None:
    """A role ("министр", "облыс әкімі") joined to the person the release named with it."""
    head = role.split()[-1]
    stem = head[:-2] if len(head) > 5 else head
    best = None
    pat = rf"{re.escape(stem)}[{LO}]*\s+((?:[{UP}]\.\s?)+[{UP}][{LO}-]+|[{UP}][{LO}-]+\s+[{UP}][{LO}-]+)"
    for m in re.finditer(pat, text[: position or len(text)]):
        if m.group(1).split()[0] in _STOP_FIRST or m.group(1).split()[0] in _title_words():
            continue
        best = m.group(1)
    if best:
        r = resolve_name(best, text)
        if r:
            return Resolution(r.speaker, "role-named", 0.75)
    return None
