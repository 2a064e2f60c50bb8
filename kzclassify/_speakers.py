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
_INITIALS = re.compile(rf"^((?:[{UP}]\.\s?)+)([{UP}][{LO}-]+)$")
_CAPWORD = re.compile(rf"^[{UP}][{LO}]+(?:-[{UP}]?[{LO}]+)*$")
# a person's name after a title: "Ресей Президенті Владимир Путин", "Иордания Королі ІІ Абдалла"
_NAME_AFTER = (rf"((?:[{UP}]\.\s?)+[{UP}][{LO}-]+|(?:ІІ|II|ІІІ)\s+[{UP}][{LO}]+"
               rf"|[{UP}][{LO}]+(?:-[{UP}][{LO}]+)?(?:\s+(?:ван|дер|де|бен|фон|Әл-)?\s*[{UP}][{LO}]+(?:-[{UP}][{LO}]+)?){{1,3}})")


@lru_cache(maxsize=1)
def lexicon() -> dict:
    with resources.files("kzclassify").joinpath("data/lexicon.json").open(encoding="utf-8") as f:
        return json.load(f)


@lru_cache(maxsize=1)
def _endings() -> tuple[str, ...]:
    return tuple(sorted(set(lexicon()["case_endings"]), key=len, reverse=True))


@dataclass(frozen=True)
class Resolution:
    speaker: str
    how: str  # "name", "initials", "title-era", "first-president", "role-named", "role", "unresolved"
    score: float


@lru_cache(maxsize=8)  # one release is resolved many times in a row: scan it once
def _tokens(text: str) -> frozenset[str]:
    return frozenset(_WORD.findall(text))


def nominative(word: str, text: str) -> str:
    """Strip a Kazakh case ending from a name token, checked against the release.

    The shortest form that also occurs as a whole word in ``text`` wins;
    otherwise only endings of two or more letters are stripped.
    """
    toks = _tokens(text)
    cands = [word[: -len(e)] for e in _endings() if word.endswith(e) and len(word) - len(e) >= 3]
    seen = [c for c in cands if c in toks]
    if seen:
        return min(seen, key=len)
    # no bare form in the release: strip only endings of 2+ letters that leave a 4+ letter stem
    long = [word[: -len(e)] for e in _endings() if len(e) >= 2 and word.endswith(e) and len(word) - len(e) >= 4]
    return long[0] if long else word


def title_kind(mention: str) -> str | None:
    """"first_president" / "president" when the mention is such a title, in any case form."""
    m = " ".join(mention.split())
    lx = lexicon()
    for kind, titles in (("first_president", lx["first_president_titles"]),
                         ("president", lx["sitting_president_titles"])):
        for t in sorted(titles, key=len, reverse=True):
            if m == t or (m.startswith(t) and m[len(t):] in _endings()):
                return kind
            # inflection that changes the title's last letters: Президенті → Президентінің
            base = t[:-1] if t.endswith(("і", "ы")) else t
            if m.startswith(base) and len(m) - len(base) <= 5 and " " not in m[len(base):]:
                rest = m[len(base):]
                if rest in ("інің", "ының", "іне", "ына", "ін", "ын", "імен", "ымен", "інде", "ында") or rest in _endings():
                    return kind
    return None


@lru_cache(maxsize=8)
def era_president(text: str) -> str:
    """The sitting president of a release: names in it first, then era cues, else Nazarbayev."""
    lx = lexicon()
    naz, tok = lx["presidents"]["nazarbayev"], lx["presidents"]["tokayev"]
    tokayev_as_other = any(re.search(re.escape(r) + r"\s+(?:Қ\.\s?|Қасым-Жомарт\s+)?Тоқаев", text)
                           for r in lx["non_president_roles_before_tokayev"])
    n_tok = 0 if tokayev_as_other else text.count("Тоқаев")
    # Nazarbayev named as the first President (not the sitting one) does not count for his era
    first = "|".join(re.escape(p) for p in lx["first_president_prefixes"])
    n_naz = text.count("Назарбаев") - len(re.findall(rf"(?:{first})\s+(?:Н\.\s?Ә?\.?\s?|Нұрсұлтан\s+)?Назарбаев", text))
    if n_tok and n_tok >= n_naz:
        return tok
    if n_naz:
        return naz
    if any(c in text for c in lx["tokayev_era_cues"]):
        return tok
    return naz


def _is_title_word(w: str) -> bool:
    lx = lexicon()
    return (w in lx["title_words"] or w in lx["roles"] or "Республика" in w or "Президент" in w
            or w[:1].islower() and w not in lx["name_particles"] or w.startswith("«") or w.endswith("»"))


_NOT_NAME_START = re.compile(r"(нда|нде|ында|інде|уде|еде|ада|кейін|соң)$")


def name_part(mention: str) -> str:
    """The person's name inside a mention ("Ресей Президенті Владимир Путин" → "Владимир Путин")."""
    words = mention.split()
    idx = [i for i, w in enumerate(words) if _is_title_word(w) or _NOT_NAME_START.search(w)
           or w in lexicon()["sentence_starts"]]
    after = words[idx[-1] + 1:] if idx else words
    return " ".join(after)


_SURNAME_LIKE = re.compile(r"(ов|ев|ова|ева|ёв|ёва|ин|ина|енко|ян|ұлы|қызы|ский|ская|иев|иева)$")
_CASE = re.compile(r"(ты|ті|ны|ні|ға|ге|қа|ке|на|не|ның|нің|тың|тің|дың|дің|мен|бен|пен|нда|нде|да|де|та|те|ын|ін)$")


_OBLIQUE = re.compile(r"(ның|нің|тың|тің|дың|дің|мен|бен|пен|нда|нде|ға|ге|қа|ке|ты|ті|ны|ні)$")


def clean_name_words(words: list[str]) -> list[str]:
    """The words of one person's name from a run of capitalised words.

    Leading sentence adverbs and titles are dropped; the run is cut before a
    second name starts ("Барак Обама Нұрсұлтан Назарбаевты" → "Барак Обама").
    """
    lx = lexicon()
    words = list(words)
    while words and (words[0] in lx["sentence_starts"] or _NOT_NAME_START.search(words[0]) or _is_title_word(words[0])):
        words.pop(0)
    out: list[str] = []
    for w in words:
        if out and (w.startswith(("Қасым-Жомарт", "Нұрсұлтан", "Қазақстан")) or _is_title_word(w)
                    or w in ("да", "де", "та", "те")):
            break
        out.append(w)
        if len(out) >= 2 and (_CASE.search(w) or _SURNAME_LIKE.search(w)):
            break
    return out


@lru_cache(maxsize=256)
def full_name(surname: str, text: str) -> str:
    """Fullest written form of ``surname`` in ``text`` ("Тоқаев" → "Қасым-Жомарт Тоқаев")."""
    best, best_key = surname, (0, 0)
    counts: dict[str, int] = {}
    pat = rf"((?:[{UP}][{LO}]+(?:-[{UP}][{LO}]+)?\s+){{1,2}}){re.escape(surname)}"
    for m in re.finditer(pat, text):
        firsts = m.group(1).split()
        # keep only the first names right before the surname: no other surname, no inflected word
        while firsts and (_is_title_word(firsts[0]) or _SURNAME_LIKE.search(firsts[0]) or _OBLIQUE.search(firsts[0])
                          or firsts[0] in lexicon()["sentence_starts"] or _NOT_NAME_START.search(firsts[0])
                          or firsts[0].startswith("Қазақстан")):
            firsts.pop(0)
        if not firsts or any(_is_title_word(w) for w in firsts):
            continue
        name = " ".join(firsts + [surname])
        counts[name] = counts.get(name, 0) + 1
    for name, c in counts.items():
        key = (len(name.split()), c)
        if key > best_key:
            best, best_key = name, key
    return best


def resolve_name(name: str, text: str) -> Resolution | None:
    """Resolve a person's name (maybe inflected, maybe initials) to its fullest nominative form."""
    words = clean_name_words(name.split())
    if not words:
        return None
    m = _INITIALS.match(words[-1]) or (len(words) >= 2 and _INITIALS.match(words[-2] + words[-1]))
    if m:
        surname = nominative(m.group(2), text)
        full = full_name(surname, text)
        if full == surname:
            return Resolution(f"{m.group(1).replace(' ', '')}{surname}", "initials", 0.8)
        return Resolution(full, "initials", 0.85)
    words = words[:-1] + [nominative(words[-1], text)]
    if len(words) >= 2:
        return Resolution(" ".join(words), "name", 0.95)
    return Resolution(full_name(words[0], text), "name", 0.85)


def classify_mention(mention: str) -> str:
    """Mention kind: "first_president", "president", "pronoun", "name", "role" or "none"."""
    m = " ".join(mention.split())
    if not m:
        return "none"
    kind = title_kind(m)
    if kind:
        return kind
    if m in lexicon()["pronouns"]:
        return "pronoun"
    return "name" if name_part(m) else "role"


def resolve_role(role: str, text: str, position: int) -> Resolution | None:
    """A role ("Ресей Президенті", "министр") joined to the person the release names with it.

    The full role phrase is tried first, then its head word; the nearest
    occurrence before the quote wins, else the first one after it.
    """
    words = role.split()
    stems = [w[:-3] if len(w) > 6 else w[:-1] if len(w) > 4 else w for w in words]
    for use in (stems, stems[-1:]):
        # words may stand between the role's words: "Иран Ислам Республикасының Президенті Хасан Рухани"
        pat = rf"\s+(?:[{UP}]\S*\s+){{0,3}}?".join(rf"{re.escape(s)}[{LO}]*" for s in use) + r"\s+" + _NAME_AFTER
        found = [m for m in re.finditer(pat, text)]
        found = [m for m in found if not _is_title_word(m.group(1).split()[0])]
        if found:
            before = [m for m in found if m.start() < position]
            m = before[-1] if before else found[0]
            r = resolve_name(m.group(1), text)
            if r:
                return Resolution(r.speaker, "role-named", 0.75)
    return None


def resolve(mention: str, text: str, position: int = 0) -> Resolution:
    """Resolve a speaker mention to a canonical person name.

    ``text`` is the whole release (names and era cues are looked up in it);
    ``position`` is where the quote is, for roles introduced earlier.
    """
    lx = lexicon()
    m = " ".join(mention.split())
    kind = classify_mention(m)
    if kind == "first_president":
        return Resolution(lx["presidents"]["nazarbayev"], "first-president", 0.95)
    if kind == "president":
        return Resolution(era_president(text), "title-era", 0.9)
    if kind == "name":
        r = resolve_name(name_part(m), text)
        if r:
            return r
    if kind == "role":
        r = resolve_role(m, text, position)
        if r:
            return r
        return Resolution(m, "role", 0.3)
    return Resolution(m, "unresolved", 0.1)
