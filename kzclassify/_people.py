"""The people of a release: every person mention grouped into persons, built once per text.

One scan of the release finds the mentions (full names, initials, inflected
surnames, the president's titles, roles); names are grouped by their
nominative surname into :class:`kzclassify.Person` records with a canonical
name (nominative, the fullest form written in the release), the titles written
next to them and every mention with its offsets. Attribution looks persons up
here instead of rescanning the text per quote: everything below is linear in
the length of the release (one regex pass per index, then dictionary lookups).
"""
from __future__ import annotations

import bisect
import datetime as _dt
import re
from dataclasses import dataclass, field
from functools import lru_cache

from ._morphology import (GENITIVE, LO, NOT_NAME_START, OBLIQUE, SPLIT_CASE, SURNAME_LIKE, UP,
                          is_title_word, lexicon, match_initials, strip_case, title_kind, word_set)
from ._types import Person

# a title of the president never continues a name ("Гүлшара Әбдіқалықова Мемлекет басшысының")
_NOT_CONT = r"(?!Мемлекет\s+басшы|Елбасы|Тұңғыш\s+Президент|Ұлт\s+Көшбасшы)"
# a capitalised word runs through a hyphen whatever the next letter's case: "Премьер-министрі" is one
# (title) word, not the name "Премьер" followed by "-министрі"
_CAP_WORD = rf"[{UP}][{LO}]+(?:-[{UP}{LO}][{LO}]+)?"
_NAME_RUN = (rf"(?:[{UP}]\.\s?){{1,2}}[{UP}][{LO}-]+"
             rf"|{_CAP_WORD}(?:\s+{_NOT_CONT}(?:{_CAP_WORD}|ван|дер|де|бен|ибн|II|ІІ|ІІІ)){{1,6}}"
             rf"|{_CAP_WORD}")
_MENTION = re.compile(  # every alternative starts with a capital: the lookahead fails fast elsewhere
    rf"(?=[{UP}])(?<![{UP}{LO}])(?:(?P<first>(?:Елбасы|Тұңғыш\s+Президент|Ұлт\s+Көшбасшысы)[{LO}]*)"
    rf"|(?P<pres>(?:Қазақстан\s+Республикасының\s+Президент|Қазақстан\s+Президент|ҚР\s+Президент|"
    rf"Мемлекет\s+басшы|Президент)[{LO}]*)"
    rf"|(?P<role>Мемлекеттік\s+хатшы[{LO}]*|(?:[{UP}][{LO}]+\s+)?облысының\s+әкімі[{LO}]*)"
    rf"|(?P<name>{_NAME_RUN}))"
)
_PARTICLES = ("ван", "дер", "де", "бен", "ибн", "фон", "II", "ІІ", "ІІІ")
# the clause before a name where its title is written ("Ресей Федерациясының Президенті ⟨Name⟩")
_CLAUSE_STOP = re.compile(r"[.!?;:«»()\n]|,\s|\s[–—-]\s")
_CAP_TOKEN = re.compile(rf"[{UP}][{LO}]+")
_NEXT_WORD = re.compile(r"\s+(\S+)")
_SPEECH = frozenset(("деді", "деп", "делінген", "деген", "дейді", "депті"))
TITLE_WINDOW = 90  # characters before a name searched for its title
TITLED_MENTIONS = 4  # a person's titles are read at the first mentions (and wherever a title is inside one)
_MIN_MATCH = 4  # shorter words never decide a title match ("Бас", "істер")


@dataclass
class _Builder:
    key: str
    forms: dict = field(default_factory=dict)  # written nominative form → count
    titles: list = field(default_factory=list)
    mentions: list = field(default_factory=list)  # (start, end, text)
    strong: bool = False  # seen with a first name, initials, or a surname-like ending


def _words(s: str, base: int):
    return [(m.start() + base, m.end() + base, m.group()) for m in re.finditer(r"\S+", s)]


def split_run(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A run of capitalised words split into the mentions it holds.

    "Барак Обама Нұрсұлтан Назарбаевты" → two; "Кипр Республикасының Президенті
    Никос Анастасиадис" stays one (title + name); "Тамим бен Хамад" stays one.
    """
    return [(start + s, start + e) for s, e in _split(text[start:end])]


_PATRONYMIC = re.compile(r"(?:ұлы|қызы)[а-яәғқңөұүһі]*$")
_PATRONYMIC_NOMINATIVE = re.compile(r"\w(?:ұлы|қызы)$")


def _starts_a_name(w: str) -> bool:
    """A word that begins another name inside a run of capitalised words ("... Нұрсұлтан Назарбаев",
    "... Қазақстан Президенті"); a patronymic built on it ("Нұрсұлтанқызы") continues the name before."""
    return w.startswith(("Қасым-Жомарт", "Нұрсұлтан", "Қазақстан")) and not _PATRONYMIC.search(w)


@lru_cache(maxsize=4096)
def _split(run: str) -> tuple[tuple[int, int], ...]:
    words = _words(run, 0)
    starts, first_names = word_set("sentence_starts"), word_set("first_names")
    while words and (words[0][2] in starts or NOT_NAME_START.search(words[0][2])):
        words.pop(0)
    out: list[tuple[int, int]] = []
    cur: list = []
    for w in words:
        if cur and _starts_a_name(w[2]):
            out.append((cur[0][0], cur[-1][1]))
            cur = []
        if len(cur) >= 2 and w[2] in first_names and SURNAME_LIKE.search(cur[-1][2]):
            out.append((cur[0][0], cur[-1][1]))  # "Қасым-Жомарт Тоқаев Дариға Назарбаеваның": a second name
            cur = []
        if len(cur) >= 2 and is_title_word(w[2]) and not is_title_word(cur[-1][2]):
            out.append((cur[0][0], cur[-1][1]))  # "Назарбаев Қытай Төрағасы Си..."
            cur = []
        if w[2] == "бен" and (len(cur) != 1 or SURNAME_LIKE.search(cur[0][2])):
            if cur:  # "Назарбаев бен Путин": a conjunction, not "Тамим бен Хамад"
                out.append((cur[0][0], cur[-1][1]))
            cur = []
            continue
        if not (not cur and w[2].startswith("Қазақстан")):
            cur.append(w)
        # a case ending closes a name ("... Назарбаевпен"), unless the word is a first name that only looks
        # inflected ("Армен": -мен), which the name goes on after
        if (len(cur) >= 2 and w[2] not in _PARTICLES and SPLIT_CASE.search(w[2]) and not is_title_word(w[2])
                and w[2] not in first_names):
            out.append((cur[0][0], cur[-1][1]))
            cur = []
    if cur:
        out.append((cur[0][0], cur[-1][1]))
    return tuple(out)


def name_part(mention: str) -> str:
    """The person's name inside a mention ("Ресей Президенті Владимир Путин" → "Владимир Путин")."""
    words = mention.split()
    starts = word_set("sentence_starts")
    flags = [bool(is_title_word(w) or NOT_NAME_START.search(w) or w in starts) for w in words]
    # "Қасым-Жомарт Тоқаев Ақордада": a place after the name is not a title before it (but in "Иран
    # Президенті" the words before the title are the title's)
    while len(flags) > 1 and flags[-1] and not is_title_word(words[-1]):
        flags.pop()
        words.pop()
    idx = [i for i, f in enumerate(flags) if f]
    return " ".join(words[idx[-1] + 1:] if idx else words)


def clean_name_words(words: list[str]) -> list[str]:
    """The words of one person's name from a run of capitalised words.

    Leading sentence adverbs and titles are dropped; the run is cut before a
    second name starts ("Барак Обама Нұрсұлтан Назарбаевты" → "Барак Обама").
    """
    starts = word_set("sentence_starts")
    words = list(words)
    while words and (words[0] in starts or NOT_NAME_START.search(words[0]) or is_title_word(words[0])):
        words.pop(0)
    out: list[str] = []
    patronymic = -1
    for i, w in enumerate(words):
        if out and (_starts_a_name(w) or is_title_word(w)
                    or w in ("да", "те", "та")):
            break
        out.append(w)
        if len(out) >= 2 and w not in _PARTICLES and (OBLIQUE.search(w) or SURNAME_LIKE.search(w)):
            # "Нұрсұлтан Әбішұлы Назарбаев": a nominative patronymic between the first name and the surname
            # does not end the name, and the canonical name is the first name and the surname (the guide's)
            nxt = words[i + 1] if i + 1 < len(words) else ""
            if (patronymic < 0 and (len(out) == 2 or out[-2] in word_set("first_names"))
                    and _PATRONYMIC_NOMINATIVE.search(w) and nxt[:1].isupper()
                    and not (_starts_a_name(nxt) or is_title_word(nxt) or _not_name(nxt))):
                patronymic = len(out) - 1
                continue
            break
    while out and out[-1] in _PARTICLES:
        out.pop()
    if 0 <= patronymic < len(out) - 1:
        del out[patronymic]
    return trim_name(out)


_ADJ_LOCATIVE = re.compile(r"(дағы|дегі|тағы|тегі)$")  # "Азиядағы", "Астанадағы": never a name


def _not_name(w: str) -> bool:
    """A place or a common noun written with a capital, unless a known first name."""
    if w in word_set("first_names") or "." in w or w.lower() in _PARTICLES:
        return False  # "Бен ван Берден": a capitalised particle starts a name
    return (w in word_set("place_words") or w in word_set("common_capitalised") or w in _PARTICLES
            or bool(_ADJ_LOCATIVE.search(w)))


def _is_place(w: str) -> bool:
    return w in word_set("place_words") or w in _PARTICLES or bool(_ADJ_LOCATIVE.search(w))


def trim_name(words: list[str]) -> list[str]:
    """Leading and trailing places and common nouns off a name ("Роберт Флойд Семей", "Жеделхатта Дональд
    Трамп", "де Тәжікстан"); the grown lists live in the lexicon (``python -m training.gazetteer``)."""
    i, j = 0, len(words)
    while i < j and _not_name(words[i]):
        i += 1
    # trailing: places only ("Роберт Флойд Семей"); a surname may be a common word ("Хасан Рухани")
    while j > i and words[j - 1] not in word_set("first_names") and (
            _is_place(words[j - 1]) or _is_place(strip_case(words[j - 1]))):
        j -= 1
    return words[i:j]


def words_match(a: str, b: str) -> bool:
    """Two words are one word in different case forms ("елшісі" / "елшісінің", "Иран" / "Иранның")."""
    a, b = a.lower(), b.lower()
    n = min(len(a), len(b))
    if n < _MIN_MATCH:
        return a == b
    k = 0
    while k < n and a[k] == b[k]:
        k += 1
    return k >= max(_MIN_MATCH, n - 2)


@lru_cache(maxsize=1)
def _synonyms() -> dict[str, int]:
    out = {}
    for i, group in enumerate(lexicon()["role_synonyms"]):
        for w in group:
            out[w.lower()] = i
    return out


def _head_match(role_head: str, title_words: list[str]) -> bool:
    syn = _synonyms()
    g = next((i for w, i in syn.items() if words_match(role_head, w)), None)
    for t in title_words:
        if words_match(role_head, t):
            return True
        if g is not None and any(words_match(t, w) for w, i in syn.items() if i == g):
            return True
    return False


def _expand(phrase: str) -> str:
    """Abbreviations written out ("АҚШ Президенті" → "Америка Құрама Штаттары Президенті")."""
    ab = lexicon()["abbreviations"]
    return " ".join(ab.get(w, w) for w in phrase.split())


def title_match(role: str, titles: tuple[str, ...] | list[str]) -> float:
    """How well a role ("Израиль елшісі") matches a person's written titles, 0..1.

    The role's head word (or a synonym: "көшбасшысы" ~ "Президенті") must be in
    one title; the score is the share of the role's content words found there.
    """
    rw = [w for w in _expand(role).split() if len(w) >= _MIN_MATCH and w.lower() not in word_set("verb_words")]
    if not rw:
        return 0.0
    best = 0.0
    for t in titles:
        tw = _expand(t).split()
        if not _head_match(rw[-1], tw):
            continue
        matched = [any(words_match(w, x) for x in tw) for w in rw[:-1]]
        sc = (1 + sum(matched)) / len(rw)
        if any(w[:1].isupper() and not m for w, m in zip(rw, matched)):
            sc = min(sc, 0.4)  # "Иран Президенті" is not "Ресей ... Президенті": a named country must match
        best = max(best, sc)
    return best


_ATINDAGY = "атындағы"  # "Әл-Фараби атындағы университет": part of the body's name


def group_name(phrase: str) -> str:
    """A group author as the guide writes it: the phrase without where the group is
    ("Петропавл қаласындағы «Танойл» ЖШС жұмысшылары" → "«Танойл» ЖШС жұмысшылары")."""
    words = phrase.split()
    cut = max((i + 1 for i, w in enumerate(words[:-1]) if _ADJ_LOCATIVE.search(w) and w != _ATINDAGY), default=0)
    words = words[cut:]
    # "Хат иелері" at a sentence start is the role "хат иелері"; "Ұлы Отан соғысы ..." keeps its capitals
    if words and words[0] in word_set("common_capitalised") and not any(w[:1].isupper() for w in words[1:]):
        words[0] = words[0].lower()
    return " ".join(words)


@lru_cache(maxsize=1)
def _group_heads() -> re.Pattern:
    heads = "|".join(sorted((re.escape(w) for w in word_set("group_roles")), key=len, reverse=True))
    return re.compile(rf"(?<=\S )(?:{heads})(?= )")


_SENT_START = re.compile(r"(?:^|\n|[.!?] )(?=[^\n.!?]*$)")
GROUP_WORDS = 10  # a group's name has at most this many words before its head noun


def find_groups(text: str) -> list[tuple[int, int, str]]:
    """Groups named as the subject of a sentence ("Қарағанды ... университетінің ұжымы"): from the sentence
    start to the head noun, at most GROUP_WORDS words; one bounded look back per head noun found."""
    out: list[tuple[int, int, str]] = []
    if not any(h in text for h in word_set("group_roles")):  # most releases name no group: one C scan each
        return out
    for m in _group_heads().finditer(text):
        lo = max(0, m.start() - 200)
        window = text[lo:m.start()]
        st = _SENT_START.search(window)
        if st is None or (st.start() == 0 and lo > 0 and text[lo - 1] not in "\n"):
            continue
        s = lo + st.end()
        phrase = text[s:m.end()]
        if len(phrase.split()) - 1 > GROUP_WORDS or not (phrase[:1].isupper() or phrase[:1] == "«"):
            continue
        out.append((s, m.end(), phrase))
    return out


@lru_cache(maxsize=8192)
def _shape(mention: str):
    """The parts of a written name that do not depend on the release: (name words with the surname
    last (for initials: the bare surname), the initials or "", the title inside the mention, where the name ends,
    the patronymic written between the first name and the surname or "")."""
    raw = name_part(mention).split()
    words = clean_name_words(raw)
    if not words:
        return None
    im = match_initials(words)
    first = re.search(rf"(?<!\w){re.escape(words[0])}(?!\w)", mention)  # "Армения ... Армен": the word, not a prefix
    name_at = first.start() if first else mention.find(words[0])
    title = mention[:name_at].strip() if name_at > 0 else ""
    last = mention.rfind(words[-1])  # "Владимир Путин Астанаға": the name ends at "Путин"
    end = last + len(words[-1]) if last >= 0 else len(mention)
    if im:
        return (im.group(2),), im.group(1).replace(" ", ""), title, end, ""
    patronymic = next((w for w in raw[1:-1] if _PATRONYMIC_NOMINATIVE.search(w) and w not in words), "")
    return tuple(words), "", title, end, patronymic


class People:
    """The people of one release (see the module docstring). Build once per text."""

    def __init__(self, text: str, date: _dt.date | None = None):
        self.text = text
        self.tokens = frozenset(_CAP_TOKEN.findall(text))  # name stems are looked up among capitalised words
        lx = lexicon()
        self.era = era_president(text, date)  # None: no date, name or cue decides
        self.mentions: list[tuple[int, int, str]] = []  # (start, end, kind) in text order
        self._by: dict[str, _Builder] = {}
        self._mention_person: dict[int, str] = {}  # mention start → person key
        self._parsed: dict[str, tuple | None] = {}
        self._person_end = 0  # where the last person mention ends: a title is not read past it
        self._patronymics: dict[tuple[str, str], str] = {}  # (first name, patronymic) → surname key
        common, starts = word_set("common_capitalised"), word_set("sentence_starts")
        for m in _MENTION.finditer(text):
            if m.group("name") is None:
                kind = "first_president" if m.group("first") else "president" if m.group("pres") else "role"
                self.mentions.append((m.start(), m.end(), kind))
                full = lx["presidents"]["nazarbayev"] if kind == "first_president" else (self.era or "") if kind == "president" else ""
                if full:
                    key = full.split()[-1]
                    b = self._builder(key)
                    b.strong = True
                    b.forms[full] = b.forms.get(full, 0) + 1
                    b.mentions.append((m.start(), m.end(), m.group()))
                    self._mention_person[m.start()] = key
                    self._person_end = m.end()
                continue
            run = m.group("name")
            if " " not in run and (run in common or run in starts):
                continue  # one capitalised common word ("Кездесу", "Сондай-ақ"): no name, no candidate
            for s, e in split_run(text, m.start(), m.end()):
                self.mentions.append((s, e, "name"))
                if not self._names_a_title(s, e):
                    self._add_name(s, e)
        self.persons: list[Person] = []
        self._index: dict[str, int] = {}
        merged = self._merge_patronymic_forms()
        for key, b in self._by.items():
            if not b.strong or key in merged:
                continue
            # fullest form: most words, written out rather than initials, then the most frequent
            name = max(b.forms.items(), key=lambda kv: (len(kv[0].replace(".", ". ").split()), "." not in kv[0],
                                                        kv[1], -len(kv[0])))[0]
            self._index[key] = len(self.persons)
            titles = tuple(dict.fromkeys(b.titles))
            self.persons.append(Person(name, titles, tuple(sorted(set(b.mentions)))))
        for src, dst in merged.items():
            if dst in self._index:
                self._index[src] = self._index[dst]
        # groups that write letters ("Қарағанды ... университетінің ұжымы"): role mentions of their own
        self.groups = find_groups(text)
        self.mentions = sorted(self.mentions + [(s, e, "role") for s, e, _ in self.groups])
        self._starts = [m[0] for m in self.mentions]
        self._finish()

    def _merge_patronymic_forms(self) -> dict[str, str]:
        """Names written as first name + patronymic ("Аманжол Қошанұлы", "Дариға Нұрсұлтанқызын") joined to the
        person the release also writes with the surname ("Аманжол Қошанұлы Қошанов"): source key → surname key."""
        merged: dict[str, str] = {}
        if not self._patronymics:
            return merged
        for key, b in self._by.items():
            for form in b.forms:
                w = form.split()
                dst = self._patronymics.get((w[0], key)) if len(w) == 2 else None
                if dst and dst != key and dst in self._by:
                    merged[key] = dst
                    break
        for src, dst in merged.items():
            self._by[dst].mentions += self._by[src].mentions
            self._by[dst].titles += self._by[src].titles
        return merged

    def _builder(self, key: str) -> _Builder:
        if key not in self._by:
            self._by[key] = _Builder(key)
        return self._by[key]

    def _parse(self, mention: str):
        """(surname key, written form, strong, title inside the mention, name end, (first name, patronymic) or
        None) of a written name, or None."""
        shape = _shape(mention)
        if shape is None:
            return None
        words, initials, title, end, patronymic = shape
        common = word_set("common_capitalised")
        if initials:
            surname = strip_case(words[-1], self.tokens)
            form, strong = f"{initials}{surname}", True
        else:
            surname = strip_case(words[-1], self.tokens)  # "Михаил Бродскийді" → "Бродский"
            form = " ".join((*words[:-1], surname))
            strong = (len(words) >= 2 and not all(w in common for w in words)) or bool(SURNAME_LIKE.search(surname))
        if title_kind(surname) or surname in common and len(words) == 1:
            return None
        # "Испанияның Королі Фелипе": a bare first name after a title is a person
        head = title.split()[-1] if title else ""
        strong = strong or bool(len(surname) >= 3 and (head in word_set("roles") or "Президент" in head))
        alias = lexicon()["president_aliases"].get(form)
        if alias:
            form, surname, strong = alias, alias.split()[-1], True
        return surname, form, strong, title, end, (words[0], patronymic) if patronymic and len(words) >= 2 else None

    def _add_name(self, s: int, e: int) -> None:
        text = self.text
        mention = text[s:e]
        if mention not in self._parsed:  # a name repeats: parse each written form once
            self._parsed[mention] = self._parse(mention)
        parsed = self._parsed[mention]
        if parsed is None:
            return
        surname, form, strong, title, end, patronymic = parsed
        if patronymic:  # "Аманжол Қошанұлы Қошанов": "Аманжол Қошанұлы" elsewhere is this person too
            self._patronymics[patronymic] = surname
        e = s + end
        b = self._builder(surname)
        b.strong = b.strong or strong
        b.forms[form] = b.forms.get(form, 0) + 1
        b.mentions.append((s, e, text[s:e]))
        self._mention_person[s] = surname
        # the title written with the name: read for the first mentions and wherever one is written inside
        if title or len(b.titles) < TITLED_MENTIONS:
            t = self._title_before(s, title)
            if t:
                b.titles.append(t)
        self._person_end = e

    def _title_before(self, s: int, inside: str) -> str:
        """The title inside a mention, with the clause just before it (bounded: TITLE_WINDOW characters)."""
        # not past the person named before ("Қасым-Жомарт Тоқаев Израиль ... елшісі ⟨Name⟩")
        before = self.text[max(0, s - TITLE_WINDOW, self._person_end):s]
        k = max((m.end() for m in _CLAUSE_STOP.finditer(before)), default=0)
        tw = (before[k:].strip() + " " + inside).split()
        starts, verbs = word_set("sentence_starts"), word_set("verb_words")
        while tw and (tw[0] in starts or NOT_NAME_START.search(tw[0]) or tw[0] in verbs or tw[0] in _SPEECH
                      or tw[0] in "–—-"):
            tw.pop(0)
        return " ".join(tw)

    def _names_a_title(self, s: int, e: int) -> bool:
        """A genitive run followed by a title names a country or body, not a person
        ("Америка Құрама Штаттарының Президенті", "Еуропалық комиссияның төрағасы")."""
        nxt = _NEXT_WORD.match(self.text, e)
        if nxt and nxt.group(1) == "атындағы":
            return True  # "М.Х.Дулати атындағы университет": a body named after someone
        if not GENITIVE.search(self.text[s:e]):
            return False
        return bool(nxt) and (nxt.group(1) in word_set("title_words") or nxt.group(1) in word_set("roles")
                              or "Президент" in nxt.group(1) or "министр" in nxt.group(1).lower())

    # lookups -----------------------------------------------------------------------------------

    def person_at(self, start: int) -> int:
        """Index (into ``persons``) of the person whose mention starts at ``start``, -1 if none."""
        key = self._mention_person.get(start)
        return self._index.get(key, -1) if key else -1

    def index_of(self, name: str) -> int:
        """Index of the person with this canonical name or surname key, -1 if none."""
        i = self._index.get(name, -1)
        if i < 0 and " " in name:
            i = self._index.get(name.split()[-1], -1)
        return i

    def by_first_name(self, word: str) -> int:
        """Index of the one person whose canonical name starts with this first name ("Мадина" →
        "Мадина Әбілқасымова"), -1 if none or several (an index built once: no scan per lookup)."""
        if self._first_names is None:
            self._first_names = {}
            for i, p in enumerate(self.persons):
                w = p.name.split()
                if len(w) >= 2 and "." not in w[0]:
                    self._first_names[w[0]] = -1 if w[0] in self._first_names else i
        return self._first_names.get(word, -1)

    def is_president(self, i: int) -> bool:
        return self._president[i]

    def _last_before(self, i: int, position: int) -> int:
        """Start of person ``i``'s last mention before ``position``, -1 if none (bisect, no scan)."""
        k = bisect.bisect_left(self._person_starts[i], position)
        return self._person_starts[i][k - 1] if k else -1

    def _other_before(self, position: int) -> tuple[int, int]:
        """(start, index) of the nearest non-president mention before ``position``, (-1, -1) if none."""
        k = bisect.bisect_left(self._others, (position, -1))
        return self._others[k - 1] if k else (-1, -1)

    def _scores(self, role: str) -> dict[int, float]:
        """Title match of ``role`` for every non-president person with one (> 0), computed once per role."""
        scores = self._role_scores.get(role)
        if scores is None:
            scores = {i: sc for i in self._title_candidates(role) if not self._president[i]
                      for sc in (title_match(role, self.persons[i].titles),) if sc > 0}
            self._role_scores[role] = scores
        return scores

    def _title_candidates(self, role: str) -> list[int]:
        """Persons with a title word that can match the role's head word or a synonym of it (the only
        ones ``title_match`` can score above 0): found through an index of title-word prefixes, so
        scoring a role does not visit every person of a long text."""
        if self._title_index is None:
            self._title_index = {}
            for i, p in enumerate(self.persons):
                for t in p.titles:
                    for w in _expand(t).split():
                        self._title_index.setdefault(w.lower()[:_MIN_MATCH], set()).add(i)
        rw = [w for w in _expand(role).split() if len(w) >= _MIN_MATCH and w.lower() not in word_set("verb_words")]
        if not rw:
            return []
        head = rw[-1]
        syn = _synonyms()
        g = next((i for w, i in syn.items() if words_match(head, w)), None)
        keys = {head.lower()[:_MIN_MATCH]} | {w[:_MIN_MATCH] for w, i in syn.items() if g is not None and i == g}
        return sorted(set().union(*(self._title_index.get(k, ()) for k in keys)))

    def role_score(self, role: str, i: int) -> float:
        """How well person ``i``'s titles match ``role`` (0..1)."""
        return self._scores(role).get(i, 0.0)

    @property
    def guest_index(self) -> int:
        """The non-president named clearly most often (twice the next), -1 if none."""
        return self._guest

    def proposed(self, role: str, position: int, k: int) -> list[tuple[int, tuple[int, int]]]:
        """Up to ``k`` persons who may hold ``role`` at ``position``, each with the mention nearest before it
        (else its first): title matches, the guest, then the last non-presidents named before (bounded walk)."""
        scores = self._scores(role)
        top = max(scores.values(), default=0.0)
        order = sorted(scores, key=lambda i: -scores[i])
        if top >= 0.5:  # the release names someone with this title: only they hold it
            order = [i for i in order if scores[i] == top]
        elif self._guest >= 0:
            order.append(self._guest)
        j = bisect.bisect_left(self._others, (position, -1))
        if top < 0.5:
            order.extend(i for _, i in reversed(self._others[max(0, j - 4 * k):j]))
        out, seen = [], set()
        for i in order:
            if i in seen:
                continue
            seen.add(i)
            k_ = bisect.bisect_left(self._person_starts[i], position)  # mentions are sorted by start
            m = self.persons[i].mentions[k_ - 1 if k_ else 0]
            out.append((i, (m[0], m[1])))
            if len(out) == k:
                break
        return out

    def by_role(self, role: str, position: int) -> tuple[int, float]:
        """The person the release names with this role: (index, match score), (-1, 0) if none.

        Best title match first; among equal matches the nearest mention before
        ``position``, else the first after it. Title scores are computed once per role.
        """
        scores = self._scores(role)
        top = max(scores.values(), default=0.0)
        best, best_key = -1, (0.0, 0, 0)
        for i, sc in scores.items():
            if sc < top:
                continue
            last = self._last_before(i, position)
            key = (sc, 1 if last >= 0 else 0, last if last >= 0 else -self._person_starts[i][0])
            if key > best_key:
                best, best_key = i, key
        return best, best_key[0]

    def author_before(self, position: int) -> tuple[int, str]:
        """The nearest letter author named before ``position``: (person index, "") or (-1, group name)."""
        start, i = self._other_before(position)
        k = bisect.bisect_left(self._group_starts, position)
        if k and self._group_starts[k - 1] > start:
            return -1, group_name(self.groups[k - 1][2])
        return i, ""

    def guest(self, position: int) -> int:
        """The person a role without a title match most likely means: the non-president named most,
        if clearly ahead; else the nearest non-president named before ``position``."""
        if self._guest >= 0:
            return self._guest
        return self._other_before(position)[1]

    def _finish(self) -> None:
        """The sorted arrays the lookups bisect (built once, O(m log m) in the number of mentions)."""
        presidents = {term[11:] for term in lexicon()["presidents"]["terms"]}
        self._president = [p.name in presidents for p in self.persons]
        self._person_starts = [sorted(m[0] for m in p.mentions) for p in self.persons]
        self._others = sorted((st, i) for i, sts in enumerate(self._person_starts) if not self._president[i] for st in sts)
        self._group_starts = [g[0] for g in self.groups]
        self._role_scores: dict[str, dict[int, float]] = {}
        self._title_index: dict[str, set[int]] | None = None
        self._first_names: dict[str, int] | None = None
        counts = sorted(((len(p.mentions), i) for i, p in enumerate(self.persons) if not self._president[i]), reverse=True)
        self._guest = (counts[0][1] if counts and (len(counts) == 1 or counts[0][0] >= 2 * counts[1][0]) else -1)


@lru_cache(maxsize=1)
def _tokayev_as_other() -> re.Pattern:
    roles = "|".join(re.escape(r) for r in lexicon()["non_president_roles_before_tokayev"])
    return re.compile(rf"(?:{roles})\s+(?:Қ\.\s?|Қасым-Жомарт\s+)?$", re.IGNORECASE)


def _tokayev_as_other_in(text: str) -> bool:
    """Tokayev named in another office ("Сенат төрағасы Қ.Тоқаев"): the words before each "Тоқаев" only."""
    i = text.find("Тоқаев")
    while i >= 0:
        if _tokayev_as_other().search(text, max(0, i - 60), i):
            return True
        i = text.find("Тоқаев", i + 1)
    return False


@lru_cache(maxsize=1)
def _first_president_naz() -> re.Pattern:
    first = "|".join(re.escape(p) for p in lexicon()["first_president_prefixes"])
    return re.compile(rf"(?:{first})\s+(?:Н\.\s?Ә?\.?\s?|Нұрсұлтан\s+)?Назарбаев")


def era_president(text: str, date: _dt.date | None = None) -> str | None:
    """The sitting president of a release, by the guide (section 3): the president in office on the
    release's ``date`` (``presidents.terms`` in the lexicon; the switch is 20 March 2019); without a date,
    the presidents named in it, then era cues; ``None`` when nothing decides (the title is then the role)."""
    lx = lexicon()
    if date is not None:
        office = None
        for term in sorted(lx["presidents"]["terms"]):  # "YYYY-MM-DD name": the first day in office
            if date.isoformat() >= term[:10]:
                office = term[11:]
        return office
    naz, tok = lx["presidents"]["nazarbayev"], lx["presidents"]["tokayev"]
    n_tok = text.count("Тоқаев")
    if n_tok and _tokayev_as_other_in(text):
        n_tok = 0
    # Nazarbayev named as the first President (not the sitting one) does not count for his era
    n_naz = text.count("Назарбаев")
    if n_naz:
        n_naz -= len(_first_president_naz().findall(text))
    if n_tok and n_tok >= n_naz:
        return tok
    if n_naz:
        return naz
    if any(c in text for c in lx["tokayev_era_cues"]):
        return tok
    return None
    if any(c in text for c in lx["tokayev_era_cues"]):
        return tok
    return naz
