"""Quote → the person who speaks it, through the people of the release.

The people of the release (``_people.People``) are built once. For every quote
the candidates are the attribution tail, the mentions before the quote and,
when the tail is a role ("– деді дипломат"), the persons of the release proposed
for that role; a trained ranker (the ``quote_speaker`` ONNX model) scores them
from the features below, mention-level and person-level. A chosen person gives
the speaker directly (its canonical name); a chosen mention is resolved to its
person by ``_speakers.resolve`` (names, the president's titles by era, roles by
the titles written with a person, letter authors, groups). Guide rules finish:
a pronoun is never the speaker, words cited in the genitive are the cited person's.

Candidate generation and features live here so that training imports exactly
what inference runs. Everything is linear in the text: per-release indexes are
built once and looked up by bisect.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from ._doc import Doc
from ._morphology import DATIVE, DOC_NOUN, GENITIVE, IN_DOCUMENT, PARTICIPLE, SPEECH_AFTER, word_set
from ._people import People
from ._person_layer import published_people
from ._quotes import QuoteSpan, find_quotes
from ._speakers import classify_mention, resolve
from ._types import Person, Quote

KINDS = ("name", "president", "first_president", "role", "pronoun")


class Features(NamedTuple):
    """The ranker's features of one candidate mention, by name. The field order is the ONNX model's input
    order (``FEATURES``, recorded in its manifest): add a feature as a new field and retrain."""

    is_tail: float
    kind_name: float
    kind_president: float
    kind_first_president: float
    kind_role: float
    kind_pronoun: float
    para_distance: float
    char_distance: float
    in_previous_sentence: float
    in_same_paragraph: float
    sentence_initial: float
    speech_verb_after: float
    genitive: float
    dative: float
    same_as_previous_speaker: float
    quote_is_telegram: float
    quote_has_person_tail: float
    rank_from_quote: float
    n_candidates: float
    # person-level (from the people of the release)
    is_person: float
    person_mentions: float
    person_in_lead: float
    citation_genitive: float
    # a person of the release proposed for a role in the tail ("– деді дипломат" → Роберт Флойд)
    person_candidate: float
    role_title_match: float
    is_guest: float


FEATURES = Features._fields
PERSON_CANDIDATES = 6  # persons proposed for a role tail: title matches, the guest, the last named before
LEAD_CHARS = 300  # the lead: where a release introduces its people


@dataclass(frozen=True)
class Candidate:
    start: int
    end: int
    text: str
    kind: str  # one of KINDS
    source: str  # "tail", "context" or "person" (a person of the release proposed for a role tail)
    features: Features
    person: int = -1  # for "person" candidates: index into People.persons


def _tail_mention(doc: Doc, q: QuoteSpan) -> tuple[int, int] | None:
    """The speaker mention inside a quote's tail, without verb words and document nouns.

    "деп атап өтті Нұрсұлтан Назарбаев" → "Нұрсұлтан Назарбаев";
    "делінген Александр Лукашенконың хатында" → "Александр Лукашенконың";
    "делінген жеделхатта" → None (only the document is named).
    """
    if q.tail_start < 0 or not q.tail:
        return None
    verbs = word_set("verb_words")
    text = doc.text
    spans = doc.words_in(q.tail_start, q.tail_start + len(q.tail) + 1)
    while spans and spans[0][2].strip(",") in verbs:
        spans.pop(0)
    while spans and spans[-1][2].strip(",.") in verbs:
        spans.pop()
    if not spans:
        return None
    s, e = spans[0][0], spans[-1][1]
    mention = text[s:e].rstrip(".,")
    while DOC_NOUN.search(mention):
        mention = DOC_NOUN.sub("", mention)
    if not mention.strip() or DOC_NOUN.fullmatch(" " + text[s:e].rstrip(".,")):
        return None  # the tail names only the document ("делінген жеделхатта")
    words = mention.split()
    if not any(ch.isupper() for ch in mention) and words[-1] not in word_set("roles") and mention not in word_set("pronouns"):
        return None  # verb or document words, not a person ("сөзіне назар аударды", "құттықтау")
    if PARTICIPLE.search(words[-1]):
        return None  # "деді БҰҰ саммитінде сөйлеген сөзінде": where he spoke, not who
    return s, s + len(mention)


CONTEXT_CHARS = 700  # how far before a quote mentions are candidates


def _role_tail(text: str, tail: tuple[int, int] | None) -> str:
    """The tail mention when it is a role a person of the release may hold ("дипломат", "Иран Президенті");
    "" for names, the president's titles, pronouns, letter authors and groups (resolved by rules)."""
    if not tail:
        return ""
    m = " ".join(text[tail[0]:tail[1]].split())
    if classify_mention(m) != "role":
        return ""
    last = m.split()[-1]
    return "" if last in word_set("author_roles") or last in word_set("group_roles") else m


@dataclass
class _Release:
    """What the features of one release read: its Doc and its people (each built once)."""

    doc: Doc
    people: People


@dataclass(frozen=True)
class _QuoteContext:
    """What every candidate of one quote shares: the quote, the previous quote's speaker mention, whether the
    quote has a tail mention, how many mention candidates it has and the role its tail names ("" if none)."""

    quote: QuoteSpan
    prev_mention: str
    person_tail: bool
    n: int
    role: str


@dataclass(frozen=True)
class _Proposal:
    """One candidate before its features: its span, its kind (for the tail: found from its words), where it
    comes from, its rank from the quote and the person proposed for the role (-1 if a mention)."""

    start: int
    end: int
    kind: str
    source: str
    rank: int
    person: int = -1


def _before_quote(rel: _Release, q: QuoteSpan, mention: str, e: int) -> tuple[bool, bool]:
    """(in the sentence before the quote, cited in the genitive) for a mention ending at ``e`` before it."""
    text, doc = rel.doc.text, rel.doc
    between = text[e:q.start]
    breaks = doc.breaks_between(e, q.start)
    prev_sent = breaks <= 1 and "\n" not in between.rstrip("\n–—- «")
    # "Елбасының: «...»", "Елбасының жастар жөніндегі: «...»": the cited words are the genitive's
    # "Мемлекет басшысының «...» атты мақаласында: «...»": the words of the document's author
    citation = bool(GENITIVE.search(mention)) and "\n" not in between and (
        (len(between) <= 40 and between.rstrip(" ").endswith(("«", ":")) and not breaks)
        or bool(IN_DOCUMENT.match(between)))
    return prev_sent, citation


def _features(rel: _Release, ctx: _QuoteContext, c: _Proposal) -> Features:
    doc, q, s, e, kind = rel.doc, ctx.quote, c.start, c.end, c.kind
    mention = doc.text[s:e]
    para_q, para_m = doc.paragraph_of(q.start), doc.paragraph_of(s)
    dist = (s - q.end) if s >= q.end else (q.start - e)
    k = bisect.bisect_right(doc.sentence_starts, s)
    sent_start = doc.sentence_starts[k - 1] if k else 0
    prev_sent = citation = False
    if s < q.start and q.start - e <= CONTEXT_CHARS:  # bounded: a proposed person may be named far before
        prev_sent, citation = _before_quote(rel, q, mention, e)
    after = doc.text[e:e + 120].split(".")[0]
    last = mention.split()[-1] if mention.split() else ""
    pi = c.person if c.person >= 0 else rel.people.person_at(s)
    p = rel.people.persons[pi] if pi >= 0 else None
    return Features(
        is_tail=float(c.source == "tail"),
        kind_name=float(kind == "name"), kind_president=float(kind == "president"),
        kind_first_president=float(kind == "first_president"), kind_role=float(kind == "role"),
        kind_pronoun=float(kind == "pronoun"),
        para_distance=float(min(abs(para_q - para_m), 5)), char_distance=min(abs(dist), 2000) / 500.0,
        in_previous_sentence=float(prev_sent), in_same_paragraph=float(para_q == para_m),
        sentence_initial=float(not doc.has_word_in(sent_start, s)),
        speech_verb_after=float(bool(SPEECH_AFTER.search(after))), genitive=float(bool(GENITIVE.search(last))),
        dative=float(bool(DATIVE.search(last)) and kind != "first_president"),
        same_as_previous_speaker=float(bool(ctx.prev_mention) and mention == ctx.prev_mention),
        quote_is_telegram=float(q.kind == "telegram"), quote_has_person_tail=float(ctx.person_tail),
        rank_from_quote=min(c.rank, 10) / 10.0, n_candidates=min(ctx.n, 20) / 20.0,
        is_person=float(p is not None or kind in ("president", "first_president")),
        person_mentions=min(len(p.mentions), 10) / 10.0 if p else 0.0,
        person_in_lead=float(p is not None and p.mentions[0][0] < LEAD_CHARS),
        citation_genitive=float(citation), person_candidate=float(c.person >= 0),
        role_title_match=rel.people.role_score(ctx.role, pi) if ctx.role and pi >= 0 else 0.0,
        is_guest=float(pi >= 0 and pi == rel.people.guest_index),
    )


def _tail_kind(mention: str) -> str:
    kind = classify_mention(mention)
    return kind if kind in KINDS else "role"


def _addressee(text: str, mention: tuple[int, int, str], people: People) -> bool:
    """A mention in the dative case: the one spoken or written *to* ("Қасым-Жомарт Тоқаевқа ... жеделхат
    жолдады", "Мемлекет басшысына ... келіп түсті"), never the speaker (no annotated speaker mention is
    dative). A name counts when it is the person's canonical surname plus a dative ending, so a name that
    ends like one ("Мадина") is not taken for it."""
    s, e, kind = mention
    words = text[s:e].split()
    if not words:
        return False
    last = words[-1]
    if kind != "name":  # "Мемлекет басшысына", "Президентіне", "министрге"
        return bool(DATIVE.search(last))
    i = people.person_at(s)
    stem = people.persons[i].name.split()[-1] if i >= 0 else ""
    return bool(stem) and last != stem and last.startswith(stem) and bool(DATIVE.fullmatch(last[len(stem):]))


def _mention_proposals(rel: _Release, q: QuoteSpan, tail: tuple[int, int] | None, in_quote) -> list[_Proposal]:
    """The tail mention, then the mentions in the CONTEXT_CHARS before the quote, nearest first (at most 12)."""
    text, people = rel.doc.text, rel.people
    raw: list[tuple[int, int, str, str]] = []
    if tail:
        raw.append((tail[0], tail[1], _tail_kind(text[tail[0]:tail[1]]), "tail"))
    mentions = people.mentions
    lo = bisect.bisect_left(people.mention_starts, q.start - CONTEXT_CHARS)
    hi = bisect.bisect_left(people.mention_starts, q.start)
    # a capitalised run that is no person ("Ұлы Отан", "Жеделхатта") is no candidate
    ctx = [c for c in mentions[lo:hi] if c[1] <= q.start and not in_quote(c[0])
           and (c[2] != "name" or people.person_at(c[0]) >= 0) and not _addressee(text, c, people)]
    raw.extend((s, e, kind, "context") for s, e, kind in reversed(ctx))  # nearest first
    seen, out = set(), []
    for s, e, kind, src in raw:
        if (s, e) not in seen:
            seen.add((s, e))
            out.append(_Proposal(s, e, kind, src, len(out)))
    return out[:12]


def candidates_for(text: "str | Doc", quotes: list[QuoteSpan], people: People | None = None) -> list[list[Candidate]]:
    """Candidate speaker mentions for every quote, in quote order (people built once if not given)."""
    out: list[list[Candidate]] = []
    if not quotes:
        return out
    doc = Doc.of(text)
    rel = _Release(doc, people or People(doc))
    q_starts, q_ends = [q.start for q in quotes], [q.end for q in quotes]

    def in_quote(pos: int) -> bool:
        i = bisect.bisect_right(q_starts, pos)
        return bool(i) and pos < q_ends[i - 1]

    prev_mention = ""
    for q in quotes:
        tail = _tail_mention(doc, q)
        props = _mention_proposals(rel, q, tail, in_quote)
        ctx = _QuoteContext(q, prev_mention, tail is not None, len(props), _role_tail(doc.text, tail))
        if ctx.role:
            props += [_Proposal(s, e, "name", "person", len(props) + i, pi)
                      for i, (pi, (s, e)) in enumerate(rel.people.proposed(ctx.role, q.start, PERSON_CANDIDATES))]
        cands = [Candidate(p.start, p.end, doc.text[p.start:p.end], p.kind, p.source, _features(rel, ctx, p), p.person)
                 for p in props]
        out.append(cands)
        if tail:
            prev_mention = doc.text[tail[0]:tail[1]]
        elif cands:
            prev_mention = cands[0].text
    return out


def rule_scorer(x: np.ndarray) -> np.ndarray:
    """The transparent baseline: the tail mention if there is one, else the nearest mention before."""
    tail = x[:, FEATURES.index("is_tail")]
    rank_ = x[:, FEATURES.index("rank_from_quote")]
    return tail + (1.0 - rank_) * 0.5


def attribute_people(text: "str | Doc", scorer, date=None) -> tuple[list[Quote], tuple[Person, ...]]:
    """Quotes of ``text`` with speakers, and the people of the release (``Quote.person`` indexes them);
    ``date`` (a ``datetime.date``) decides who the sitting president is (``_people.era_president``).

    ``scorer`` maps a float32 feature matrix to candidate probabilities: the shipped
    ONNX ranker (``Analyzer``), the trained sklearn model (training) or ``rule_scorer``.
    """
    doc = Doc.of(text)
    text = doc.text
    quotes = find_quotes(doc)
    people = People(doc, date)
    all_cands = candidates_for(doc, quotes, people)
    flat = [c for cs in all_cands for c in cs]
    probs = scorer(np.array([c.features for c in flat], dtype=np.float32)) if flat else np.zeros(0)
    out, i = [], 0
    for q, cs in zip(quotes, all_cands):
        p = probs[i:i + len(cs)]
        i += len(cs)
        if cs:
            order = np.argsort(-p)
            j = int(order[0])
            # "деді ол": a pronoun is not a speaker; take the best candidate that names someone
            if classify_mention(cs[j].text) == "pronoun" and len(cs) > 1:
                j = next((int(k) for k in order if classify_mention(cs[int(k)].text) != "pronoun"), j)
            # the guide: a quote cited in the genitive ("Елбасының: «...»") is the words of whom it cites
            cited = [k for k, c in enumerate(cs) if c.features.citation_genitive]
            if cited:
                j = cited[0]
            c = cs[j]
            if c.source == "person":  # the ranker chose a person for the role in the tail
                t = cs[0]
                out.append(Quote(text[q.start:q.end], q.start, q.end, q.kind, q.cue, people.persons[c.person].name,
                                 t.text, t.start, t.end, "role-person", round(float(p[j]) * 0.8, 4), c.person))
                continue
            res = resolve(c.text, text, q.start, people)
            out.append(Quote(text[q.start:q.end], q.start, q.end, q.kind, q.cue, res.speaker, c.text,
                             c.start, c.end, res.how, round(float(p[j]) * res.score, 4), res.person))
        else:
            out.append(Quote(text[q.start:q.end], q.start, q.end, q.kind, q.cue, "", "", -1, -1, "none", 0.0))
    # what the release publishes as its people: the mentions that name someone (the speakers stay)
    persons, index = published_people(text, people.persons, [q.start for q in quotes], {q.person for q in out})
    return [replace(q, person=index[q.person]) if q.person >= 0 else q for q in out], persons


def attribute(text: str, scorer) -> list[Quote]:
    """Quotes of ``text`` with speakers (the runtime path of ``kzclassify.extract_quotes``)."""
    return attribute_people(text, scorer)[0]
