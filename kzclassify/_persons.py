"""One person across releases: a normalised key per written name, and a stable ``person_id`` from it.

A release's people (``Analysis.people``) are named as the release writes them: ``Владимир Путин`` in
one, ``В.Путин`` in another, ``Путиннің`` in a third; ``Ердоған``/``Эрдоған``; ``Төраға Си Цзиньпин``
(a title inside the name); ``Қасым -Жомарт Тоқаев`` (a space typed before the hyphen). The key of a
name (:func:`person_key`) is ``surname|initial``:

* spaces around a hyphen are dropped (``Қасым -Жомарт`` is ``Қасым-Жомарт``); titles and roles before
  the name go (every word up to the last title word, ``_morphology.is_title_word``: ``Төраға``,
  ``Ресей Президенті``); what is left is the name;
* the surname is the last word, without its case ending (``_morphology.strip_case`` against the
  surnames written elsewhere in the run: ``Путиннің`` → ``Путин``); the initial is the first letter
  of the first word before it (``В.Путин``, ``Владимир Путин`` and ``Владимир Владимирович Путин``
  all give ``в``);
* letters are folded (lexicon ``name_letter_folds``: ``ә→а``, ``ғ→г``, ``э→е``, ...) and lowercased,
  so spellings that differ only in them are one key.

A name without a first name or initial (``Путин``) joins the one key of the run with that surname
and an initial; with none or several it keeps its own key (two people called ``Алиев`` are never
joined by a guess). ``person_id`` is the first 10 hex digits of the key's sha1: the same name gives
the same id in every run over the same archive.
"""
from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from functools import lru_cache

from ._morphology import ANY_PATRONYMIC, FEMININE_SURNAME, endings, is_title_word, lexicon, strip_case, title_kind

_HYPHEN_SPACES = re.compile(r"\s*-\s*(?=\w)|(?<=\w)\s*-\s*")
_INITIALS = re.compile(r"^((?:\w\.\s?)+)(.*)$")


@lru_cache(maxsize=1)
def _fold_table() -> dict[int, str]:
    return str.maketrans(lexicon()["name_letter_folds"])


def fold(word: str) -> str:
    """A word lowercased with the name letters folded (``Ердоған`` and ``Эрдоган`` → ``ердоган``)."""
    return word.lower().translate(_fold_table())


def name_words(name: str) -> list[str]:
    """The words of the name itself: hyphens rejoined, dots of initials kept on their letters,
    the titles and roles before the name removed (``Төраға Си Цзиньпин`` → ``Си``, ``Цзиньпин``)."""
    text = _HYPHEN_SPACES.sub("-", " ".join(name.split()))
    text = re.sub(r"(?<=\.)\s+(?=\w\.)", "", text)  # Н. Ә. Назарбаев → Н.Ә. Назарбаев
    text = re.sub(r"(\b\w\.)(?=\w{2})", r"\1 ", text)  # В.Путин → В. Путин
    words = [w.strip(",;:()«»\"'") for w in text.split()]
    words = [w for w in words if w]
    last_title = max((i for i, w in enumerate(words) if _is_title(w)), default=-1)
    rest = words[last_title + 1:]
    return rest if rest else words[-1:]


def is_name(text: str) -> bool:
    """``text`` ends in a name: its last word is capitalised and no title or role (``Мемлекет басшысы``,
    ``Австрия Президенті`` and ``елші`` are no names; ``Ресей Президенті Владимир Путин`` is one)."""
    words = [w.strip(",;:()«»\"'") for w in text.split()]
    return bool(words) and words[-1][:1].isupper() and not _is_title(words[-1])


def _is_title(w: str) -> bool:
    return not _INITIALS.match(w) and (is_title_word(w) or title_kind(w) is not None)


def key_parts(name: str, known: frozenset[str] = frozenset()) -> tuple[str, str]:
    """(surname, initial) of a name, folded: the surname without its case ending (checked against
    ``known``, the surnames written in nominative elsewhere), the first name's first letter or ""."""
    words = name_words(name)
    if not words:
        return "", ""
    last = words[-1]
    # a feminine surname's -а is no case ending (Назарбаева is not Назарбаев in the dative)
    surname = last if len(last) <= 3 or FEMININE_SURNAME.search(last) else strip_case(last, known)
    if surname == last and len(last) > 3 and not FEMININE_SURNAME.search(last):  # a short surname inflected (Иннің)
        surname = max((last[:-len(e)] for e in endings() if last.endswith(e) and len(last) - len(e) >= 2
                       and last[:-len(e)] in known),
                      key=len, default=last)
    firsts = [w for w in words[:-1] if not ANY_PATRONYMIC.search(w)]
    first = firsts[0] if firsts else ""
    if "." in first:  # initials (В., Н.Ә.): the first letter is all they say
        first = first[:1]
    return fold(surname.rstrip(".")), fold(first)


def person_key(name: str, known: frozenset[str] = frozenset()) -> str:
    """``surname|initial`` of one name on its own (a PersonIndex also joins and separates across a run)."""
    surname, first = key_parts(name, known)
    return f"{surname}|{first[:1]}"


def _close(a: str, b: str) -> bool:
    """Two spellings of one first name: at most one edit (two for names of 7+ letters) apart."""
    limit = 2 if min(len(a), len(b)) >= 7 else 1
    if abs(len(a) - len(b)) > limit:
        return False
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        prev = cur
    return prev[-1] <= limit


def person_id(key: str) -> str:
    """The stable id of a person key: sha1, 10 hex digits."""
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:10]


class PersonIndex:
    """The persons of one run: every written name → key → ``person_id``, the most written name of each.

    Build it from every name of the run first (``add``), then ``resolve``: the surnames written in
    their nominative are known before any inflected one is stripped, whatever the order of releases.
    """

    def __init__(self):
        self.names: Counter[str] = Counter()
        self._key: dict[str, str] | None = None

    def add(self, name: str) -> None:
        self.names[name] += 1
        self._key = None

    def _build(self) -> dict[str, str]:
        known = frozenset(ws[-1] for ws in map(name_words, self.names) if ws)
        parts = {n: key_parts(n, known) for n in self.names}
        # full first names (not initials) written with each surname and initial
        full: dict[tuple[str, str], set[str]] = defaultdict(set)
        for surname, first in parts.values():
            if len(first) > 1:
                full[(surname, first[0])].add(first)
        initials: dict[str, set[str]] = defaultdict(set)
        for surname, first in parts.values():
            if first:
                initials[surname].add(first[0])
        out = {}
        for n, (surname, first) in parts.items():
            if not first and len(initials.get(surname, ())) == 1:
                first = next(iter(initials[surname]))  # "Путин" alone: the one Putin of the run
            initial = first[:1]
            clusters = _clusters(full.get((surname, initial), set()))
            if len(clusters) > 1:  # Қорқыт Ата and Қошқар Ата: one initial, two people
                rep = next((min(c) for c in clusters if first in c), "") if len(first) > 1 else ""
                out[n] = f"{surname}|{rep or initial + '.'}"  # an initial alone cannot say which: its own key
            else:
                out[n] = f"{surname}|{initial}"
        return out

    def key(self, name: str) -> str:
        if self._key is None:
            self._key = self._build()
        if name not in self._key:
            self.add(name)
            self._key = self._build()
        return self._key[name]

    def person_id(self, name: str) -> str:
        return person_id(self.key(name))

    def display_names(self) -> dict[str, str]:
        """person_id → the name written most often for it (ties: the longest, then alphabetical)."""
        best: dict[str, tuple[int, int, str]] = {}
        for n, c in self.names.items():
            pid = self.person_id(n)
            cand = (c, len(n), n)
            if pid not in best or (cand[0], cand[1], _neg(cand[2])) > (best[pid][0], best[pid][1], _neg(best[pid][2])):
                best[pid] = cand
        return {pid: v[2] for pid, v in best.items()}

    def groups(self) -> dict[str, list[str]]:
        """person_id → every name written for it, most written first."""
        out: dict[str, list[str]] = defaultdict(list)
        for n, _ in self.names.most_common():
            out[self.person_id(n)].append(n)
        return dict(out)


def _clusters(names: set[str]) -> list[set[str]]:
    """First names grouped by spelling closeness (single link; ``_close``)."""
    groups: list[set[str]] = []
    for n in sorted(names):
        near = [g for g in groups if any(_close(n, m) for m in g)]
        merged = {n}.union(*near) if near else {n}
        groups = [g for g in groups if g not in near] + [merged]
    return groups


def _neg(s: str) -> tuple:
    return tuple(-ord(c) for c in s)
