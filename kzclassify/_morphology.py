"""Kazakh letters, case endings, speech verbs and titles: the one home of the lexicon.

Every stage that needs a letter class, a case ending or a word list imports it
from here; the word lists themselves are data in ``kzclassify/data/lexicon.json``,
read once by :func:`lexicon`.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources

# Kazakh Cyrillic letter classes (Ё included: Russian names keep it, "Пётр", "Королёв")
UP = "А-ЯӘҒҚҢӨҰҮҺІЁ"
LO = "а-яәғқңөұүһіё"

INITIALS = re.compile(rf"^((?:[{UP}]\.\s?)+)([{UP}][{LO}-]+)$")


def match_initials(words: list[str]) -> re.Match | None:
    """INITIALS on the end of a name's words, written with or without spaces: "Н.Ә.Назарбаев",
    "Н. Назарбаев", "Н. Ә. Назарбаев" (group 1: the initials, group 2: the surname)."""
    return (INITIALS.match(words[-1]) or (len(words) >= 3 and INITIALS.match("".join(words[-3:])))
            or (len(words) >= 2 and INITIALS.match(words[-2] + words[-1]))) if words else None

# case endings of a word as a whole (a name inside a sentence)
GENITIVE = re.compile(r"(ның|нің|тың|тің|дың|дің)$")
DATIVE = re.compile(r"(ға|ге|қа|ке|на|не)$")
OBLIQUE = re.compile(r"(ның|нің|тың|тің|дың|дің|мен|бен|пен|нда|нде|ға|ге|қа|ке|ты|ті|ны|ні|ды|ді)$")
SPLIT_CASE = re.compile(r"(ты|ті|ны|ні|ға|ге|қа|ке|ның|нің|тың|тің|дың|дің|мен|бен|пен|нда|нде|да|де|та|те)$")
# a word that cannot start a name: locatives and adverbs ("Астанада", "кейін")
NOT_NAME_START = re.compile(r"(нда|нде|ында|інде|уде|еде|ада|кейін|соң)$")
SURNAME_LIKE = re.compile(r"(ов|ев|ова|ева|ёв|ёва|ин|ина|енко|ян|ұлы|қызы|ский|ская|иев|иева)$")
# the possessive/case tails a title takes ("Президенті" → "Президентінің", "басшысы" → "басшысының")
TITLE_INFLECTIONS = ("інің", "ының", "іне", "ына", "ін", "ын", "імен", "ымен", "інде", "ында")

# speech verbs after a mention ("... айтты", "... жолдады")
SPEECH_AFTER = re.compile(
    r"(айтты|деді|атап өтті|сөйле|жолдады|жіберді|жеделхат|хат\w*|құттықта|көңіл айт|мәлімде|"
    r"тоқталды|түйіндеді|жазды|жазған|жеткізді|білдірді|сөз\w*|ой\w* бөлісті|пікір\w*)")
# the document a quote's tail may name instead of a person ("делінген жеделхатта")
DOC_NOUN = re.compile(
    r"\s+(?:жеделхат\w*|хат|хатта|хатында|хатын|хаты|хатымен|хаттарында|құттықтау\w*|үндеу\w*|жолдау\w*|мақала\w*|сөзі\w*|"
    r"көңіл\s+айту\s+\w+|кітаб\w*|мәлімдеме\w*|баяндама\w*)$")


# -- the patterns the stages and the Doc read (quotes, sentences, names) -----------------------------

DASH = "–—-"
_DASHES = f"[{DASH}]"
WORD = re.compile(r"\S+")
CAP_TOKEN = re.compile(rf"[{UP}][{LO}]+")
SENTENCE_MARK = re.compile(r"[.!?]")
SENTENCE_BREAK = re.compile(r"\s+")
# A sentence end, but not the period of an initial ("Б.Сапарбаев").
SENT_END = re.compile(r"(?<![\s.][А-ЯӘҒҚҢӨҰҮҺІA-Z])(?<!^[А-ЯӘҒҚҢӨҰҮҺІA-Z])[.!?](?=\s|$|[А-ЯӘҒҚҢӨҰҮҺІA-Z«])")
# Other double quotation marks, read as guillemets: straight "…", English “…”, German/Russian „…“.
OTHER_QUOTES = re.compile('["\u201c\u201d\u201e]')
# Speech verbs that close a quote after ", –"; the words after them up to the
# sentence end are the tail (speaker mention, maybe with more verb words).
_VERB = r"(?:деді|деп|делінген|деген|дейді|депті)(?![\w])"
TAIL = re.compile(
    rf"(?P<punct>[,.!?…:;])?[ \u00a0]*{_DASHES}[ \u00a0]*(?P<verb>{_VERB})(?P<rest>)"
)
# After a closing guillemet the dash may be missing: «...» деген сөзіне, «...» деп жазады.
GUILLEMET_TAIL = re.compile(rf"(?P<punct>,)?[ \u00a0]*(?:{_DASHES}[ \u00a0]*)?(?P<verb>{_VERB})(?P<rest>)")
# «...» деп аталған / деген тақырыппен / деген көне нақыл: a name or a saying, not speech
NOT_SPEECH = re.compile(r"\s*(?:атал|тақырып|атпен|атты|атау|(?:\w+\s+){0,2}(?:нақыл|мақал))")
# A dash paragraph closed by a bare name: "..., – Нұрсұлтан Назарбаев."
NAME_TAIL = re.compile(r"(?P<punct>,)[ \u00a0]*" + _DASHES + r"[ \u00a0]*(?P<verb>)(?P<rest>[А-ЯӘҒҚҢӨҰҮҺІ][^\n,–—]{2,60})$")
NAME_TAIL_LINES = re.compile(NAME_TAIL.pattern, re.M)
OPEN_DASH = re.compile(rf"^{_DASHES}[ \u00a0]*", re.M)
# A colon introducing a guillemet quote: "... деді: «...»", "... хатында: «...»".
INTRO_VERB = re.compile(
    r"(?:деді|деп|айтты|атап\s+өтті|жазды|жазған|мәлімдеді|делінген|хатында|жеделхатында|"
    r"құттықтауында|хатта|жеделхатта|сөзінде|мақаласында|жолдауында|үндеуінде|"
    r"құттықтау\s+хатында|былай|мынадай|ескертті|қосты)[^.!?\n]{0,60}:\s*$"
)
# where a TAIL can match: the dash and the verb (the optional punctuation and
# spaces before the dash are found by looking back from it)
DASH_VERB = re.compile(rf"{_DASHES}[ \u00a0]*{_VERB}")
# a closing guillemet that a TAIL or GUILLEMET_TAIL can follow
# (spaces typed before the punctuation, "» , – деді", are allowed; written so that a run of spaces after »
# is scanned a bounded number of times, not once per split of the run)
CLOSE_THEN_VERB = re.compile(rf"»(?=(?:[ \u00a0]*[,.!?…:;])?[ \u00a0]*(?:{_DASHES}[ \u00a0]*)?{_VERB})")
SPACE_BEFORE_PUNCT = re.compile(r"[ \u00a0]+(?=[,.!?…:;])")
# an opening guillemet that INTRO_VERB can introduce (its window ends in ":" and spaces)
COLON_OPEN = re.compile(r":\s*«")
COLON_DASH = re.compile(rf":[ \u00a0]*{_DASHES}[ \u00a0]*")
PARTICIPLE = re.compile(r"^[^\W\d_]*[а-яәғқңөұүһі](?:ған|ген|қан|кен)$")
# the words before a quote that name the document it is cited from ("... мақаласында: «")
IN_DOCUMENT = re.compile(r"(?:\s+«[^»\n]{0,100}»)?(?:\s+[^\s.!?«»]+){0,3}?\s+(?:мақаласында|[Жж]олдауында|сөзінде|"
                         r"хатында|кітабында|үндеуінде|баяндамасында|сұхбатында)\s*:\s*«?\s*$")
TELEGRAM_WORDS = ("жеделхат", "хатта", "хатында", "құттықтау", "көңіл айту", "үндеу", "жолдау")
TELEGRAM = re.compile("|".join(map(re.escape, TELEGRAM_WORDS)))
# the person-stage's capitalised runs: a title of the president never continues a name ("Гүлшара
# Әбдіқалықова Мемлекет басшысының"); a capitalised word runs through a hyphen whatever the next letter's
# case: "Премьер-министрі" is one (title) word, not the name "Премьер" followed by "-министрі"
_NOT_CONT = r"(?!Мемлекет\s+басшы|Елбасы|Тұңғыш\s+Президент|Ұлт\s+Көшбасшы)"
_CAP_WORD = rf"[{UP}][{LO}]+(?:-[{UP}{LO}][{LO}]+)?"
_NAME_RUN = (rf"(?:[{UP}]\.\s?){{1,2}}[{UP}][{LO}-]+"
             rf"|{_CAP_WORD}(?:\s+{_NOT_CONT}(?:{_CAP_WORD}|ван|дер|де|бен|ибн|II|ІІ|ІІІ)){{1,6}}"
             rf"|{_CAP_WORD}")
MENTION = re.compile(  # every alternative starts with a capital: the lookahead fails fast elsewhere
    rf"(?=[{UP}])(?<![{UP}{LO}])(?:(?P<first>(?:Елбасы|Тұңғыш\s+Президент|Ұлт\s+Көшбасшысы)[{LO}]*)"
    rf"|(?P<pres>(?:Қазақстан\s+Республикасының\s+Президент|Қазақстан\s+Президент|ҚР\s+Президент|"
    rf"Мемлекет\s+басшы|Президент)[{LO}]*)"
    rf"|(?P<role>Мемлекеттік\s+хатшы[{LO}]*|(?:[{UP}][{LO}]+\s+)?облысының\s+әкімі[{LO}]*)"
    rf"|(?P<name>{_NAME_RUN}))"
)


@lru_cache(maxsize=1)
def lexicon() -> dict:
    """The lexicon (``kzclassify/data/lexicon.json``), read once."""
    with resources.files("kzclassify").joinpath("data/lexicon.json").open(encoding="utf-8") as f:
        return json.load(f)


@lru_cache(maxsize=1)
def endings() -> tuple[str, ...]:
    """Case endings, longest first."""
    return tuple(sorted(set(lexicon()["case_endings"]), key=len, reverse=True))


@lru_cache(maxsize=8192)
def _endings_of(tail: str) -> tuple[str, ...]:
    """The case endings (longest first) a word ending in ``tail`` (its last 7 letters) ends with."""
    return tuple(e for e in endings() if tail.endswith(e))


@lru_cache(maxsize=1)
def _sets() -> dict:
    lx = lexicon()
    return {k: frozenset(lx[k]) for k in ("title_words", "roles", "name_particles", "sentence_starts",
                                          "verb_words", "pronouns", "group_roles", "common_capitalised",
                                          "place_words", "first_names", "author_roles")}


def word_set(name: str) -> frozenset[str]:
    """A lexicon word list as a set (``title_words``, ``roles``, ``verb_words``, ...)."""
    return _sets()[name]


@lru_cache(maxsize=4096)
def _title_stem(w: str) -> bool:
    """A capitalised title in another case ("Әміріне", "Королінің")."""
    ends = set(endings()) | set(TITLE_INFLECTIONS)
    for t in _sets()["title_words"]:
        if len(t) >= 4 and w.startswith(t[:-1]) and (w[len(t):] in ends and w.startswith(t)
                                                      or t[-1] in "іы" and w[len(t) - 1:] in TITLE_INFLECTIONS):
            return True  # "Исламов" is no "Ислам" in another case: only case endings may follow
    return False


def is_title_word(w: str) -> bool:
    """A word of a title or role, or any lowercase non-particle word: not part of a person's name."""
    s = _sets()
    return (w in s["title_words"] or w in s["roles"] or "Республика" in w or "Президент" in w
            or w[:1].isupper() and _title_stem(w)
            or w[:1].islower() and w not in s["name_particles"] or w.startswith("«") or w.endswith("»"))


def strip_case(word: str, known: frozenset[str] | set[str] = frozenset()) -> str:
    """A name token without its case ending, checked against the words of the release.

    The shortest stripped form that occurs as a whole word in ``known`` wins;
    otherwise only endings of two or more letters that leave a 4+ letter stem.
    """
    cands = [word[: -len(e)] for e in _endings_of(word[-7:]) if len(word) - len(e) >= 3]
    seen = [c for c in cands if c in known]
    if seen:
        return min(seen, key=len)
    if word in known and any(word + e in known for e in endings()):
        return word  # the release inflects this very form ("Кисида", "Кисиданы"): it is the nominative
    long = [word[: -len(e)] for e in _endings_of(word[-7:]) if len(e) >= 2 and len(word) - len(e) >= 4]
    return long[0] if long else word


@lru_cache(maxsize=4096)
def title_kind(mention: str) -> str | None:
    """"first_president" / "president" when the mention is such a title, in any case form."""
    m = " ".join(mention.split())
    lx = lexicon()
    for kind, titles in (("first_president", lx["first_president_titles"]),
                         ("president", lx["sitting_president_titles"])):
        for t in sorted(titles, key=len, reverse=True):
            if m == t or (m.startswith(t) and m[len(t):] in endings()):
                return kind
            # inflection that changes the title's last letters: Президенті → Президентінің
            base = t[:-1] if t.endswith(("і", "ы")) else t
            if m.startswith(base) and len(m) - len(base) <= 5 and " " not in m[len(base):]:
                rest = m[len(base):]
                if rest in TITLE_INFLECTIONS or rest in endings():
                    return kind
    return None


@lru_cache(maxsize=4096)
def trailing_title_kind(mention: str) -> str | None:
    """The president title a longer phrase ends with ("Саяси кеңес отырысын ашқан Мемлекет басшысы")."""
    words = mention.split()
    for k in range(min(len(words), 5), 0, -1):
        kind = title_kind(" ".join(words[-k:]))
        if kind:
            # "Ресей Президенті" is another country's president, not a title of the release's president
            head = words[-k - 1] if len(words) > k else ""
            if k < len(words) and kind == "president" and head[:1].isupper() and words[-k].startswith("Президент"):
                return None
            return kind
    return None
