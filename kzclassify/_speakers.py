"""Mention → canonical speaker (ANNOTATION_GUIDE.md section 3), through the people of the release.

The release's people (``_people.People``) are built once; a mention is resolved
by looking its person up there: a name by its nominative surname, a president
title by the era, a role by the title written with a person elsewhere in the
release (``Израиль елшісі`` → the person introduced as ``Израиль Мемлекетінің
... елшісі``), else by the release's guest; otherwise the role, with a low score.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ._morphology import depends_on_lexicon, lexicon, match_initials, strip_case, title_base, title_kind, trailing_title_kind, word_set
from ._names import name_part, name_words
from ._people import People, era_president, group_name  # noqa: F401  (era_president: re-exported)


@dataclass(frozen=True)
class Resolution:
    speaker: str
    how: str  # "name", "initials", "title-era", "first-president", "role-named", "role-guest", "role", "unresolved"
    # ("role" for a president's title too when no date, name or era cue says who the president was)
    score: float
    person: int = -1  # index into People.persons, -1 when no person


@depends_on_lexicon  # built from the lexicon's name lists: training swaps them per CV fold (lexicon_lists)
@lru_cache(maxsize=4)  # resolve() called on its own (pre-annotation) for quotes of one release in a row
def people_of(text: str) -> People:
    """The people of ``text``, built once per text (callers with many quotes pass them around)."""
    return People(text)


def nominative(word: str, text: str) -> str:
    """Strip a Kazakh case ending from a name token, checked against the release."""
    return strip_case(word, people_of(text).tokens)


def classify_mention(mention: str) -> str:
    """Mention kind: "first_president", "president", "pronoun", "name", "role" or "none"."""
    m = " ".join(mention.split())
    if not m:
        return "none"
    kind = title_kind(m) or trailing_title_kind(m)
    if kind:
        return kind
    if m in word_set("pronouns"):
        return "pronoun"
    return "name" if name_part(m) else "role"


def president_role(mention: str) -> str:
    """The sitting president's title a mention is written with, in the nominative ("Мемлекет басшысының"
    → "Мемлекет басшысы"): the speaker the guide asks for when nothing names the president."""
    words = mention.split()
    titles = sorted(lexicon()["sitting_president_titles"], key=len, reverse=True)
    for k in range(min(len(words), 6), 0, -1):
        tail = " ".join(words[-k:])
        for t in titles:
            if len(t.split()) == k and title_kind(tail) == "president" and tail.startswith(title_base(t)):
                return t
    return mention


def _president(people: People, name: str, how: str, score: float) -> Resolution:
    return Resolution(name, how, score, people.index_of(name))


def resolve_name(name: str, people: People) -> Resolution | None:
    """A person's name (maybe inflected, maybe initials) → its fullest nominative form in the release."""
    words = name_words(name.split())
    if not words:
        return None
    m = match_initials(words)
    if m:
        surname = strip_case(m.group(2), people.tokens)
        i = people.index_of(surname)
        full = people.persons[i].name if i >= 0 else surname
        if full == surname or "." in full:
            return Resolution(f"{m.group(1).replace(' ', '')}{surname}", "initials", 0.8, i)
        return Resolution(full, "initials", 0.85, i)
    surname = strip_case(words[-1], people.tokens)
    i = people.index_of(surname)
    if i < 0 and surname != words[-1]:
        i = people.index_of(words[-1])
    if len(words) >= 2:
        written = " ".join(words[:-1] + [surname])
        full = people.persons[i].name if i >= 0 else written
        # the fullest form wins only if it extends what is written here ("Джавад Зариф" ⊂ "Мохаммад Джавад Зариф")
        return Resolution(full if full.endswith(written) else written, "name", 0.95, i)
    if i < 0:  # a first name alone ("– деді Мадина"): the one person of the release with it
        i = people.by_first_name(words[-1])
        if i < 0 and surname != words[-1]:
            i = people.by_first_name(surname)
    if i >= 0:
        return Resolution(people.persons[i].name, "name", 0.85, i)
    return Resolution(surname, "name", 0.6, -1)


def resolve_role(role: str, people: People, position: int) -> Resolution | None:
    """A role ("Ресей Президенті", "министр") joined to the person the release names with it,
    else (a singular role) to the release's guest."""
    words = role.split()
    if words and words[-1] in word_set("author_roles"):
        # "деп жазады авторлар": the letter's author, the nearest person or group named before
        i, group = people.author_before(position)
        if i >= 0:
            return Resolution(people.persons[i].name, "author", 0.6, i)
        return Resolution(group, "author", 0.5) if group else None
    if words and words[-1] in word_set("group_roles"):
        return Resolution(group_name(role), "group", 0.5)  # a group speaks: the group is the speaker
    i, sc = people.by_role(role, position)
    if i >= 0 and sc >= 0.5:
        return Resolution(people.persons[i].name, "role-named", 0.75, i)
    g = people.guest(position)
    if g >= 0:
        return Resolution(people.persons[g].name, "role-guest", 0.5, g)
    return None


def resolve(mention: str, text: str, position: int = 0, people: People | None = None) -> Resolution:
    """Resolve a speaker mention to a canonical person name.

    ``text`` is the whole release (its people are looked up, built once per text
    unless passed as ``people``); ``position`` is where the quote is, for roles
    introduced earlier.
    """
    people = people or people_of(text)
    lx = lexicon()
    m = " ".join(mention.split())
    kind = classify_mention(m)
    if kind == "first_president":
        return _president(people, lx["presidents"]["nazarbayev"], "first-president", 0.95)
    if kind == "president":
        if people.era is None:  # no date, no name, no era cue: the guide's role, with a low score
            return Resolution(president_role(m), "role", 0.3)
        return _president(people, people.era, "title-era", 0.9)
    if kind == "name":
        r = resolve_name(name_part(m), people)
        if r:
            return r
    if kind == "role":
        r = resolve_role(m, people, position)
        if r:
            return r
        return Resolution(m, "role", 0.3)
    return Resolution(m, "unresolved", 0.1)


__all__ = ["Resolution", "classify_mention", "era_president", "nominative", "people_of", "president_role", "resolve",
           "resolve_name", "resolve_role"]
