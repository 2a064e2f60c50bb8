"""Which mentions of the people stage name a person: the precision rules of ``Analysis.people``.

The people stage (``_people.People``) keeps every capitalised run it can group into a person,
because attribution ranks speaker candidates among them and a wider net costs it nothing. What a
release publishes as its people (``Analysis.people``, the PERSON layer of Label Studio, the desk
tables) is read by people, so it keeps only the mentions that name someone. The rules, in one
function (:func:`is_person_mention`) and one name test (:func:`names_no_one`), with their word
lists in the lexicon (``not_a_person``):

- nothing inside «…» that is a name (of an order, an organisation, a document, a programme), as
  opposed to a quote in guillemets («Сәкен Сейфуллиннің мұражайы», «Нұр Отан»);
- no office, body or decree named after a title ("Президент Әкімшілігі", "Президент Іс
  басқармасы", "Президентінің Жарлығымен", "Президент сайлауы");
- no title written right before a name ("Президент Шавкат Мирзиёевтің": the name is the
  mention; the title alone would name the sitting president);
- no person whose canonical name is no name: an organisation or country read as one
  ("Еуропалық Одақ", "Сауд Арабиясы"), a case-inflected word at a sentence start joined to the
  next one ("Отырысқа Мемлекеттік"), a decree noun cut to a stem ("Жарлығ").

Linear in the text: one pass over the guillemets and one over the sorted mentions.
"""
from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from ._morphology import CASED_CAPITALISED, TITLE_HEAD, is_title_word, lexicon, title_kind, word_list, word_set
from ._types import Person

_GUILLEMETS = re.compile(r"«[^«»]*»")
_NEXT_WORDS = re.compile(r"[\s»]*([^\s,.;:!?()«»]+)(?:\s+([^\s,.;:!?()«»]+))?")


@lru_cache(maxsize=1)
def _rules() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], re.Pattern]:
    lx = lexicon()["not_a_person"]
    return (tuple(lx["after_title"]), tuple(lx["in_mention"]), tuple(lx["name_words"]),
            re.compile("(?:" + "|".join(lx["adjective_endings"]) + ")$"))


def _title_only(said: str) -> bool:
    """A mention that is a title and nothing else ("Президент", "Мемлекет басшысы", "Республикасы Президентінің")."""
    return bool(title_kind(said)) or all(is_title_word(w) for w in said.split())


def name_guillemets(text: str, quote_starts: Iterable[int]) -> list[tuple[int, int]]:
    """The «…» of ``text`` that hold a name, not a quote: every guillemet pair (innermost) that no
    quote starts inside of (a quote span starts right after its opening «)."""
    starts = set(quote_starts)
    return [(m.start(), m.end()) for m in _GUILLEMETS.finditer(text)
            if not any(m.start() + k in starts for k in (1, 2))]


def is_person_mention(text: str, s: int, e: int, names: Sequence[tuple[int, int]],
                      after: tuple[int, str, bool] = (-1, "", False)) -> bool:
    """Does ``text[s:e]``, a mention of the people stage, name a person? ``names`` are the sorted
    «…» spans that hold a name (:func:`name_guillemets`); ``after`` is the next mention of the
    release: (start or -1, text, whether it names the same person)."""
    after_title, in_mention, _, _ = _rules()
    k = bisect.bisect_right(names, (s, len(text) + 1)) - 1
    if k >= 0 and names[k][0] < s and e <= names[k][1]:
        return False  # inside the name of an order, a body, a document
    said = text[s:e]
    words = said.split()
    if any(w.lower().startswith(in_mention) for w in words[1:]):
        return False  # "Республикасы Президентінің Жарлығымен"
    if not _title_only(said) or not TITLE_HEAD.search(words[-1]):
        return True
    nxt = _NEXT_WORDS.match(text, e)
    follow = " ".join(w for w in nxt.groups() if w).lower() if nxt else ""
    if follow.startswith(after_title):
        return False  # "Президент Әкімшілігі", "Президентінің Жарлығымен", "Президент сайлауы"
    start, next_said, same = after
    bare_name = not any(is_title_word(w) for w in next_said.split())
    president_first = words[0].startswith(word_list("president_word"))
    if start > e and not text[e:start].strip() and bare_name and (same or president_first):
        return False  # "Мемлекет басшысы Қасым-Жомарт Тоқаев", "Президент Шавкат Мирзиёевтің": the name says it
    return True


def names_no_one(name: str) -> bool:
    """A canonical name that is no person's: a body or a country ("Еуропалық Одақ"), a decree
    noun cut to a stem ("Жарлығ"), a sentence's first word in a case joined to the next
    ("Отырысқа Мемлекеттік")."""
    _, _, name_words, adjective = _rules()
    words = name.split()
    first_names = word_set("first_names")
    if any(w.lower().startswith(name_words) for w in words):
        return True
    if any(adjective.search(w) and w not in first_names for w in words):
        return True
    return len(words) >= 2 and any(CASED_CAPITALISED.match(w) and w not in first_names and not is_title_word(w)
                                   for w in words[:-1])


def published_people(text: str, persons: Sequence[Person], quote_starts: Iterable[int],
                     keep: Iterable[int] = ()) -> tuple[tuple[Person, ...], list[int]]:
    """The persons of a release as published: only mentions that name a person
    (:func:`is_person_mention`), only persons with a name (:func:`names_no_one`) and a mention
    left. Persons in ``keep`` (the speakers of quotes) stay whatever their mentions. Returns the
    persons and, for every input index, its new index (-1: left out)."""
    names = name_guillemets(text, quote_starts)
    flat = sorted((m[0], m[1], i) for i, p in enumerate(persons) for m in p.mentions)
    starts = [m[0] for m in flat]
    kept: dict[int, set[tuple[int, int]]] = {}
    for s, e, i in flat:
        k = bisect.bisect_right(starts, s)
        after = (flat[k][0], text[flat[k][0]:flat[k][1]], flat[k][2] == i) if k < len(flat) else (-1, "", False)
        if is_person_mention(text, s, e, names, after):
            kept.setdefault(i, set()).add((s, e))
    keep = set(keep)
    out: list[Person] = []
    index = [-1] * len(persons)
    for i, p in enumerate(persons):
        mentions = tuple(m for m in p.mentions if (m[0], m[1]) in kept.get(i, ()))
        if i in keep or (mentions and not names_no_one(p.name)):
            index[i] = len(out)
            out.append(Person(p.name, p.titles, mentions))
    return tuple(out), index
