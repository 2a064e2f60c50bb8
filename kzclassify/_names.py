"""The name tokenizer: how the words of a capitalised run become the names of persons.

One tokenizer for every question the people stage and speaker resolution ask of a
written name. A run is split into words once; each distinct word is classified
once (:func:`name_word`: a title word, a word no name starts with, a first name,
a surname ending, a place, a particle, ...), from the lexicon through
:mod:`kzclassify._morphology`. The stages then read those flags:

* :func:`split_run` — a run of capitalised words → the mentions it holds
  ("Барак Обама Нұрсұлтан Назарбаевты" → two mentions);
* :func:`name_part` — the person's name inside a mention, after its title
  ("Ресей Президенті Владимир Путин" → "Владимир Путин");
* :func:`name_words` — the words of one person's name: leading adverbs and
  titles dropped, cut before a second name, a nominative patronymic between
  first name and surname left out, places and common nouns trimmed;
* :func:`parse_name` — a written mention → :class:`NameShape` (words, initials,
  title, where the name ends, patronymic), what the people stage groups by.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ._morphology import (ADJ_LOCATIVE, NOT_NAME_START, OBLIQUE, PATRONYMIC, PATRONYMIC_NOMINATIVE, SPLIT_CASE,
                          SURNAME_LIKE, WORD, depends_on_lexicon, is_title_word, match_initials, strip_case, word_list,
                          word_set)


@dataclass(frozen=True)
class NameWord:
    """What the name rules ask of one written word (computed once per word, see :func:`name_word`)."""

    text: str
    title: bool  # a title or role word, or a lowercase non-particle word (is_title_word)
    opener: bool  # no name starts with it: a sentence adverb or a locative ("Сондай-ақ", "Астанада")
    first_name: bool
    surname_like: bool  # a surname ending (-ов, -ұлы, -ский, ...)
    breaker: bool  # starts another name inside a run ("Нұрсұлтан", "Қазақстан"), unless a patronymic built on it
    particle: bool  # a word inside a name ("бен", "ван", "ІІ")
    oblique: bool  # ends in an oblique case (genitive, instrumental, accusative, ...)
    closes_run: bool  # a case ending closes a name in a run ("... Назарбаевпен"), unless a first name or title
    patronymic: bool  # a nominative patronymic ("Әбішұлы")
    not_name: bool  # a place or a capitalised common noun, and no first name
    place: bool  # a place (also once its case ending is stripped)
    conjunction: bool  # "бен" between two names
    clitic: bool  # "да", "те", "та"
    skipped: bool  # never starts a mention of a run ("Қазақстан ...")


@depends_on_lexicon
@lru_cache(maxsize=16384)
def name_word(w: str) -> NameWord:
    """The flags of one word (cached: a release repeats its names, a corpus its words)."""
    first_names, particles = word_set("first_names"), word_list("name_links")
    title = is_title_word(w)
    first = w in first_names
    particle = w in particles

    def is_place(x: str) -> bool:
        return x in word_set("place_words") or x in particles or bool(ADJ_LOCATIVE.search(x))

    not_name = not (first or "." in w or w.lower() in particles) and (
        w in word_set("place_words") or w in word_set("common_capitalised") or particle or bool(ADJ_LOCATIVE.search(w)))
    return NameWord(
        text=w, title=title, opener=w in word_set("sentence_starts") or bool(NOT_NAME_START.search(w)),
        first_name=first, surname_like=bool(SURNAME_LIKE.search(w)),
        breaker=w.startswith(word_list("name_run_breakers")) and not PATRONYMIC.search(w), particle=particle,
        oblique=bool(OBLIQUE.search(w)),
        closes_run=not particle and bool(SPLIT_CASE.search(w)) and not title and not first,
        patronymic=bool(PATRONYMIC_NOMINATIVE.search(w)), not_name=not_name,
        place=is_place(w) or is_place(strip_case(w)), conjunction=w in word_set("name_run_conjunctions"),
        clitic=w in word_set("clitic_particles"), skipped=w.startswith(word_list("name_run_skips")))


def _tokens(run: str) -> list[tuple[int, int, NameWord]]:
    return [(m.start(), m.end(), name_word(m.group())) for m in WORD.finditer(run)]


def split_run(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A run of capitalised words split into the mentions it holds.

    "Барак Обама Нұрсұлтан Назарбаевты" → two; "Кипр Республикасының Президенті
    Никос Анастасиадис" stays one (title + name); "Тамим бен Хамад" stays one.
    """
    return [(start + s, start + e) for s, e in _split(text[start:end])]


def _ends_mention(cur: list, w: NameWord) -> bool:
    """Whether ``w`` starts a new mention after the words ``cur`` of the current one."""
    return bool(cur) and (w.breaker
                          # "Қасым-Жомарт Тоқаев Дариға Назарбаеваның": a second name
                          or len(cur) >= 2 and w.first_name and cur[-1][2].surname_like
                          # "Назарбаев Қытай Төрағасы Си...": a title after a name
                          or len(cur) >= 2 and w.title and not cur[-1][2].title)


@depends_on_lexicon
@lru_cache(maxsize=4096)
def _split(run: str) -> tuple[tuple[int, int], ...]:
    tokens = _tokens(run)
    while tokens and tokens[0][2].opener:
        tokens.pop(0)
    out: list[tuple[int, int]] = []
    cur: list = []
    for tok in tokens:
        w = tok[2]
        if _ends_mention(cur, w):
            out.append((cur[0][0], cur[-1][1]))
            cur = []
        if w.conjunction and (len(cur) != 1 or cur[0][2].surname_like):
            if cur:  # "Назарбаев бен Путин": a conjunction, not "Тамим бен Хамад"
                out.append((cur[0][0], cur[-1][1]))
            cur = []
            continue
        if cur or not w.skipped:
            cur.append(tok)
        # a case ending closes a name ("... Назарбаевпен"), unless the word is a first name that only looks
        # inflected ("Армен": -мен), which the name goes on after
        if len(cur) >= 2 and w.closes_run:
            out.append((cur[0][0], cur[-1][1]))
            cur = []
    if cur:
        out.append((cur[0][0], cur[-1][1]))
    return tuple(out)


def name_part(mention: str) -> str:
    """The person's name inside a mention ("Ресей Президенті Владимир Путин" → "Владимир Путин")."""
    words = mention.split()
    flags = [(name_word(w).title or name_word(w).opener) for w in words]
    # "Қасым-Жомарт Тоқаев Ақордада": a place after the name is not a title before it (but in "Иран
    # Президенті" the words before the title are the title's)
    while len(flags) > 1 and flags[-1] and not name_word(words[-1]).title:
        flags.pop()
        words.pop()
    idx = [i for i, f in enumerate(flags) if f]
    return " ".join(words[idx[-1] + 1:] if idx else words)


def _patronymic_here(out: list[str], w: NameWord, nxt: str) -> bool:
    """"Нұрсұлтан Әбішұлы Назарбаев": a nominative patronymic right after the first name, a name word next."""
    if not (len(out) == 2 or name_word(out[-2]).first_name) or not w.patronymic or not nxt[:1].isupper():
        return False
    n = name_word(nxt)
    return not (n.breaker or n.title or n.not_name)


def name_words(words: list[str]) -> list[str]:
    """The words of one person's name from a run of capitalised words.

    Leading sentence adverbs and titles are dropped; the run is cut before a
    second name starts ("Барак Обама Нұрсұлтан Назарбаевты" → "Барак Обама").
    """
    words = list(words)
    while words and (name_word(words[0]).opener or name_word(words[0]).title):
        words.pop(0)
    out: list[str] = []
    patronymic = -1
    for i, w in enumerate(words):
        nw = name_word(w)
        if out and (nw.breaker or nw.title or nw.clitic):
            break
        out.append(w)
        if len(out) >= 2 and not nw.particle and (nw.oblique or nw.surname_like):
            # a nominative patronymic between the first name and the surname does not end the name, and the
            # canonical name is the first name and the surname (the guide's)
            if patronymic < 0 and _patronymic_here(out, nw, words[i + 1] if i + 1 < len(words) else ""):
                patronymic = len(out) - 1
                continue
            break
    while out and name_word(out[-1]).particle:
        out.pop()
    if 0 <= patronymic < len(out) - 1:
        del out[patronymic]
    return trim_name(out)


def trim_name(words: list[str]) -> list[str]:
    """Leading and trailing places and common nouns off a name ("Роберт Флойд Семей", "Жеделхатта Дональд
    Трамп", "де Тәжікстан"); the grown lists live in the lexicon (``python -m training.gazetteer``)."""
    i, j = 0, len(words)
    while i < j and name_word(words[i]).not_name:
        i += 1
    # trailing: places only ("Роберт Флойд Семей"); a surname may be a common word ("Хасан Рухани")
    while j > i and not name_word(words[j - 1]).first_name and name_word(words[j - 1]).place:
        j -= 1
    return words[i:j]


def _is_w(ch: str) -> bool:
    return ch.isalnum() or ch == "_"  # the regex \w


def _word_at(text: str, word: str) -> int:
    """Where ``word`` first stands as a whole word in ``text`` (no letter or digit on either side), else
    where it first occurs at all, else -1."""
    i = text.find(word)
    first = i
    while i >= 0:
        j = i + len(word)
        if not (i and _is_w(text[i - 1])) and not (j < len(text) and _is_w(text[j])):
            return i
        i = text.find(word, i + 1)
    return first


@dataclass(frozen=True)
class NameShape:
    """The parts of a written name that do not depend on the release."""

    words: tuple[str, ...]  # the name's words, surname last (for initials: the bare surname alone)
    initials: str  # "Н.Ә." or ""
    title: str  # the title written inside the mention, before the name
    end: int  # where the name ends in the mention ("Владимир Путин Астанаға": after "Путин")
    patronymic: str  # the patronymic written between the first name and the surname, or ""


@depends_on_lexicon
@lru_cache(maxsize=8192)
def parse_name(mention: str) -> NameShape | None:
    """A written mention as a :class:`NameShape`, None when it holds no name."""
    raw = name_part(mention).split()
    words = name_words(raw)
    if not words:
        return None
    im = match_initials(words)
    name_at = _word_at(mention, words[0])  # "Армения ... Армен": the word, not a prefix
    title = mention[:name_at].strip() if name_at > 0 else ""
    last = mention.rfind(words[-1])  # "Владимир Путин Астанаға": the name ends at "Путин"
    end = last + len(words[-1]) if last >= 0 else len(mention)
    if im:
        return NameShape((im.group(2),), im.group(1).replace(" ", ""), title, end, "")
    patronymic = next((w for w in raw[1:-1] if name_word(w).patronymic and w not in words), "")
    return NameShape(tuple(words), "", title, end, patronymic)
