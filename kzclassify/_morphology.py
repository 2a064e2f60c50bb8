"""Kazakh letters, case endings, speech verbs, titles and sentence ends: the one home of the lexicon.

The word lists are data in ``kzclassify/data/lexicon.json``, read once by :func:`lexicon`; this module
is the only one that reads it, and it builds, at import, every pattern the stages use from those lists
(the Doc's scans, the quote rules' speech verbs and tails, case endings, the people stage's runs). Only
the letter classes and the punctuation are written here. To add a speech verb, a title or a case ending,
add it to the lexicon list named next to the pattern below; nothing else changes.
"""
from __future__ import annotations

import json
import re
from contextlib import contextmanager
from functools import lru_cache
from importlib import resources

# Kazakh Cyrillic letter classes (Ё included: Russian names keep it, "Пётр", "Королёв")
UP = "А-ЯӘҒҚҢӨҰҮҺІЁ"
LO = "а-яәғқңөұүһіё"
KAZAKH_SPECIFIC = "әғқңөұүһіӘҒҚҢӨҰҮҺІ"  # letters Russian lacks

INITIALS = re.compile(rf"^((?:[{UP}]\.\s?)+)([{UP}][{LO}-]+)$")


def match_initials(words: list[str]) -> re.Match | None:
    """INITIALS on the end of a name's words, written with or without spaces: "Н.Ә.Назарбаев",
    "Н. Назарбаев", "Н. Ә. Назарбаев" (group 1: the initials, group 2: the surname)."""
    return (INITIALS.match(words[-1]) or (len(words) >= 3 and INITIALS.match("".join(words[-3:])))
            or (len(words) >= 2 and INITIALS.match(words[-2] + words[-1]))) if words else None


@lru_cache(maxsize=1)
def lexicon() -> dict:
    """The lexicon (``kzclassify/data/lexicon.json``), read once."""
    with resources.files("kzclassify").joinpath("data/lexicon.json").open(encoding="utf-8") as f:
        return json.load(f)


_COMPILED_KEYS: set[str] = set()  # lists read while this module is imported: compiled into its patterns
_importing = True


def _read(key: str) -> list:
    if _importing:
        _COMPILED_KEYS.add(key)
    return lexicon()[key]


def _alt(key: str, space: str = r"\s+") -> str:
    """The entries of a lexicon list as one alternation, in their order (the first that matches wins):
    words joined by ``space``, a word "*" any word, a trailing "*" any ending."""
    def word(w: str) -> str:
        return r"\w+" if w == "*" else re.escape(w[:-1]) + r"\w*" if w.endswith("*") else re.escape(w)
    return "|".join(space.join(map(word, entry.split(" "))) for entry in _read(key))


def _ending(key: str) -> re.Pattern:
    """A word ending in one of the lexicon's endings ``key``."""
    return re.compile(f"({_alt(key)})$")


@lru_cache(maxsize=None)
def word_list(key: str) -> tuple[str, ...]:
    """A lexicon list in its written order (``quote_verbs``, ``frame_markers``, ...)."""
    return tuple(_read(key))


# case endings of a word as a whole (a name inside a sentence)
GENITIVE = _ending("genitive_endings")
DATIVE = _ending("dative_endings")
OBLIQUE = _ending("oblique_endings")
SPLIT_CASE = _ending("name_closing_endings")  # a case ending closes a name in a run of capitalised words
# a word that cannot start a name: locatives and adverbs ("Астанада", "кейін")
NOT_NAME_START = _ending("not_name_start_endings")
SURNAME_LIKE = _ending("surname_endings")
PATRONYMIC = re.compile(rf"(?:{_alt('patronymic_endings')})[{LO}]*$")  # "Нұрсұлтанқызы", "Нұрсұлтанқызын"
PATRONYMIC_NOMINATIVE = re.compile(rf"\w(?:{_alt('patronymic_endings')})$")
# a patronymic, Kazakh or Russian ("Әбішұлы", "Владимирович", "Петровна"): no first name
ANY_PATRONYMIC = re.compile(f"(?:{_alt('patronymic_endings')}|{_alt('russian_patronymic_endings')})$")
FEMININE_SURNAME = _ending("feminine_surname_endings")  # "Назарбаева": its -а is no case ending
# the possessive a title ends with ("Президенті", "басшысы"): dropped before a case or possessive tail
POSSESSIVE_ENDINGS = word_list("possessive_endings")
# the last word of a title that may head the name of an office: nominative ("Президент", "басшысы") or genitive
TITLE_HEAD = re.compile(f"(?:{_alt('nominative_title_endings')}|{_alt('possessive_endings')}"
                        f"|{_alt('genitive_endings')})$")
# a capitalised word in a case ("Отырысқа", "Астанада", "Президентінің"): inside a name it joins two words
CASED_CAPITALISED = re.compile(rf"^[{UP}][{LO}-]*(?:{_alt('cased_word_endings')}|{_alt('genitive_endings')})$")
ADJ_LOCATIVE = _ending("adjectival_locative_endings")  # "Азиядағы", "Астанадағы": never a name
PARTICIPLE = re.compile(rf"^[^\W\d_]*[{LO[:-1]}](?:{_alt('participle_endings')})$")
# the possessive/case tails a title takes ("Президенті" → "Президентінің", "басшысы" → "басшысының")
TITLE_INFLECTIONS = word_list("title_inflections")
TITLE_SUBSTRINGS = word_list("title_substrings")  # a word holding one is a title word ("Президентімен")

# speech verbs after a mention ("... айтты", "... жолдады")
SPEECH_AFTER = re.compile(f"({_alt('speech_after_patterns', ' ')})")
# the document a quote's tail may name instead of a person ("делінген жеделхатта")
DOC_NOUN = re.compile(rf"\s+(?:{_alt('document_noun_patterns')})$")
# the words before a quote that name the document it is cited from ("... мақаласында: «")
IN_DOCUMENT = re.compile(rf"(?:\s+«[^»\n]{{0,100}}»)?(?:\s+[^\s.!?«»]+){{0,3}}?\s+(?:{_alt('document_locatives')})"
                         r"\s*:\s*«?\s*$")
TELEGRAM = re.compile(_alt("telegram_words", " "))
# the head noun of a group that writes or speaks ("... университетінің ұжымы"), a word between two spaces
GROUP_HEAD = re.compile(rf"(?<=\S )(?:{'|'.join(sorted(map(re.escape, word_list('group_roles')), key=len, reverse=True))})(?= )")
# Tokayev named in another office ("Сенат төрағасы Қ.Тоқаев"): the words before "Тоқаев"
TOKAYEV_AS_OTHER = re.compile(rf"(?:{'|'.join(map(re.escape, word_list('non_president_roles_before_tokayev')))})"
                              r"\s+(?:Қ\.\s?|Қасым-Жомарт\s+)?$", re.IGNORECASE)
# Nazarbayev named as the first President ("Елбасы Н.Ә.Назарбаев")
FIRST_PRESIDENT_NAZARBAYEV = re.compile(rf"(?:{'|'.join(map(re.escape, word_list('first_president_prefixes')))})"
                                        r"\s+(?:Н\.\s?Ә?\.?\s?|Нұрсұлтан\s+)?Назарбаев")

# -- punctuation, words and sentences: what the Doc scans ------------------------------------------

DASH = "–—-"
_DASHES = f"[{DASH}]"
TAIL_PUNCT = ",.!?…:;"  # the punctuation a quote's tail may start with
WORD = re.compile(r"\S+")
CAP_TOKEN = re.compile(rf"[{UP}][{LO}]+")
SENTENCE_MARKS = ".!?"
SENTENCE_MARK = re.compile(f"[{SENTENCE_MARKS}]")
SENTENCE_BREAK = re.compile(r"\s+")
# A sentence end, but not the period of an initial ("Б.Сапарбаев").
SENT_END = re.compile(rf"(?<![\s.][{UP[:-1]}A-Z])(?<!^[{UP[:-1]}A-Z])[.!?](?=\s|$|[{UP[:-1]}A-Z«])")
# A lead's sentence end: a mark, then whitespace before a word (initials like "Н.Әбіқаев" stay).
LEAD_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[^\w\s]*[^\W\d_][^\W\d_])")
# the clause before a name where its title is written ("Ресей Федерациясының Президенті ⟨Name⟩")
CLAUSE_STOP = re.compile(r"[.!?;:«»()\n]|,\s|\s[–—-]\s")
# Other double quotation marks, read as guillemets: straight "…", English “…”, German/Russian „…“.
OTHER_QUOTES = re.compile('["\u201c\u201d\u201e]')

# -- the quote rules --------------------------------------------------------------------------------

# Speech verbs that close a quote after ", –"; the words after them up to the
# sentence end are the tail (speaker mention, maybe with more verb words).
_VERB = rf"(?:{_alt('quote_verbs')})(?![\w])"
TAIL = re.compile(rf"(?P<punct>[{TAIL_PUNCT}])?[ \u00a0]*{_DASHES}[ \u00a0]*(?P<verb>{_VERB})(?P<rest>)")
# After a closing guillemet the dash may be missing: «...» деген сөзіне, «...» деп жазады.
GUILLEMET_TAIL = re.compile(rf"(?P<punct>,)?[ \u00a0]*(?:{_DASHES}[ \u00a0]*)?(?P<verb>{_VERB})(?P<rest>)")
# «...» деп аталған / деген тақырыппен / деген көне нақыл: a name or a saying, not speech
NOT_SPEECH = re.compile(rf"\s*(?:{_alt('not_speech_patterns')}|(?:\w+\s+){{0,2}}(?:{_alt('saying_words')}))")
# A dash paragraph closed by a bare name: "..., – Нұрсұлтан Назарбаев."
NAME_TAIL = re.compile(rf"(?P<punct>,)[ \u00a0]*{_DASHES}[ \u00a0]*(?P<verb>)(?P<rest>[{UP[:-1]}][^\n,–—]{{2,60}})$")
NAME_TAIL_LINES = re.compile(NAME_TAIL.pattern, re.M)
OPEN_DASH = re.compile(rf"^{_DASHES}[ \u00a0]*", re.M)
# A colon introducing a guillemet quote: "... деді: «...»", "... хатында: «...»".
INTRO_VERB = re.compile(rf"(?:{_alt('intro_patterns')})[^.!?\n]{{0,60}}:\s*$")
# where a TAIL can match: the dash and the verb (the optional punctuation and
# spaces before the dash are found by looking back from it)
DASH_VERB = re.compile(rf"{_DASHES}[ \u00a0]*{_VERB}")
# a closing guillemet that a TAIL or GUILLEMET_TAIL can follow
# (spaces typed before the punctuation, "» , – деді", are allowed; written so that a run of spaces after »
# is scanned a bounded number of times, not once per split of the run)
CLOSE_THEN_VERB = re.compile(rf"»(?=(?:[ \u00a0]*[{TAIL_PUNCT}])?[ \u00a0]*(?:{_DASHES}[ \u00a0]*)?{_VERB})")
SPACE_BEFORE_PUNCT = re.compile(rf"[ \u00a0]+(?=[{TAIL_PUNCT}])")
# an opening guillemet that INTRO_VERB can introduce (its window ends in ":" and spaces)
COLON_OPEN = re.compile(r":\s*«")
COLON_DASH = re.compile(rf":[ \u00a0]*{_DASHES}[ \u00a0]*")

# -- the people stage's capitalised runs ------------------------------------------------------------

# a title of the president never continues a name ("Гүлшара Әбдіқалықова Мемлекет басшысының"); a capitalised
# word runs through a hyphen whatever the next letter's case: "Премьер-министрі" is one (title) word, not
# the name "Премьер" followed by "-министрі"
_NOT_CONT = rf"(?!{_alt('never_continue_name_patterns')})"
_CAP_WORD = rf"[{UP}][{LO}]+(?:-[{UP}{LO}][{LO}]+)?"
_NAME_RUN = (rf"(?:[{UP}]\.\s?){{1,2}}[{UP}][{LO}-]+"
             rf"|{_CAP_WORD}(?:\s+{_NOT_CONT}(?:{_CAP_WORD}|{_alt('name_run_links')})){{1,6}}"
             rf"|{_CAP_WORD}")
MENTION = re.compile(  # every alternative starts with a capital: the lookahead fails fast elsewhere
    rf"(?=[{UP}])(?<![{UP}{LO}])(?:(?P<first>(?:{_alt('first_president_stem_patterns')})[{LO}]*)"
    rf"|(?P<pres>(?:{_alt('president_stem_patterns')})[{LO}]*)"
    rf"|(?P<role>(?:{_alt('office_stem_patterns')})[{LO}]*|(?:[{UP}][{LO}]+\s+)?(?:{_alt('regional_office_stem_patterns')})[{LO}]*)"
    rf"|(?P<name>{_NAME_RUN}))"
)


@lru_cache(maxsize=1)
def endings() -> tuple[str, ...]:
    """Case endings, longest first."""
    return tuple(sorted(set(lexicon()["case_endings"]), key=len, reverse=True))


@lru_cache(maxsize=8192)
def _endings_of(tail: str) -> tuple[str, ...]:
    """The case endings (longest first) a word ending in ``tail`` (its last 7 letters) ends with."""
    return tuple(e for e in endings() if tail.endswith(e))


@lru_cache(maxsize=None)
def word_set(name: str) -> frozenset[str]:
    """A lexicon word list as a set (``title_words``, ``roles``, ``verb_words``, ...)."""
    return frozenset(_read(name))


@lru_cache(maxsize=4096)
def _title_stem(w: str) -> bool:
    """A capitalised title in another case ("Әміріне", "Королінің")."""
    ends = set(endings()) | set(TITLE_INFLECTIONS)
    for t in word_set("title_words"):
        if len(t) >= 4 and w.startswith(t[:-1]) and (w[len(t):] in ends and w.startswith(t)
                                                      or t.endswith(POSSESSIVE_ENDINGS)
                                                      and w[len(t) - 1:] in TITLE_INFLECTIONS):
            return True  # "Исламов" is no "Ислам" in another case: only case endings may follow
    return False


def is_title_word(w: str) -> bool:
    """A word of a title or role, or any lowercase non-particle word: not part of a person's name."""
    return (w in word_set("title_words") or w in word_set("roles") or any(t in w for t in TITLE_SUBSTRINGS)
            or w[:1].isupper() and _title_stem(w)
            or w[:1].islower() and w not in word_set("name_particles") or w.startswith("«") or w.endswith("»"))


def strip_case(word: str, known: frozenset[str] | set[str] = frozenset()) -> str:
    """A name token without its case ending, checked against the words of the release.

    The shortest stripped form that occurs as a whole word in ``known`` wins;
    otherwise only endings of two or more letters that leave a 4+ letter stem.
    """
    cands = [word[: -len(e)] for e in _endings_of(word[-7:]) if len(word) - len(e) >= 3]
    seen = [c for c in cands if c in known]
    if seen:
        return min(seen, key=len)
    if word in known and word in (_inflected_stems(known) if isinstance(known, frozenset)
                                  else {w[:-len(e)] for w in known for e in _endings_of(w[-7:])}):
        return word  # the release inflects this very form ("Кисида", "Кисиданы"): it is the nominative
    long = [word[: -len(e)] for e in _endings_of(word[-7:]) if len(e) >= 2 and len(word) - len(e) >= 4]
    return long[0] if long else word


@lru_cache(maxsize=8)
def _inflected_stems(known: frozenset[str]) -> frozenset[str]:
    """Every ``w`` with ``w + ending`` in ``known`` (a release's capitalised words: built once per release)."""
    return frozenset(w[:-len(e)] for w in known for e in _endings_of(w[-7:]))


def title_base(title: str) -> str:
    """A title without its possessive ending ("Президенті" → "Президент", "басшысы" → "басшыс"): what its
    inflected forms start with ("Президентінің", "басшысының")."""
    return title[:-1] if title.endswith(POSSESSIVE_ENDINGS) else title


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
            base = title_base(t)
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


_importing = False
_DEPENDENT: list = [word_set, word_list, endings, _endings_of, _inflected_stems, _title_stem, title_kind,
                     trailing_title_kind]


def depends_on_lexicon(cached):
    """Register an ``lru_cache``d function whose results depend on the lexicon's lists, so that
    :func:`lexicon_lists` clears it."""
    _DEPENDENT.append(cached)
    return cached


@contextmanager
def lexicon_lists(**lists):
    """Use other word lists for a while: ``with lexicon_lists(first_names=[...]): ...`` (training's
    ablations and per-fold gazetteers). Every cache built from the lists is cleared on entry and exit.
    A list compiled into a pattern at import (``quote_verbs``, the endings, ...) cannot be swapped:
    ValueError names it."""
    fixed = sorted(set(lists) & _COMPILED_KEYS)
    if fixed:
        raise ValueError(f"lexicon lists compiled into patterns at import cannot be swapped: {', '.join(fixed)}")
    lx = lexicon()
    saved = {k: lx[k] for k in lists}

    def clear():
        for f in _DEPENDENT:
            f.cache_clear()

    lx.update(lists)
    clear()
    try:
        yield
    finally:
        lx.update(saved)
        clear()
