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
import re
from dataclasses import dataclass, replace

import numpy as np

from ._morphology import DATIVE, DOC_NOUN, GENITIVE, SPEECH_AFTER, word_set
from ._people import People
from ._person_layer import published_people
from ._quotes import QuoteSpan, find_quotes
from ._speakers import classify_mention, resolve
from ._types import Person, Quote

_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+")
_PARTICIPLE = re.compile(r"^[^\W\d_]*[а-яәғқңөұүһі](?:ған|ген|қан|кен)$")
_IN_DOCUMENT = re.compile(r"(?:\s+«[^»\n]{0,100}»)?(?:\s+[^\s.!?«»]+){0,3}?\s+(?:мақаласында|[Жж]олдауында|сөзінде|"
                          r"хатында|кітабында|үндеуінде|баяндамасында|сұхбатында)\s*:\s*«?\s*$")

KINDS = ("name", "president", "first_president", "role", "pronoun")
FEATURES = (
    "is_tail", "kind_name", "kind_president", "kind_first_president", "kind_role", "kind_pronoun",
    "para_distance", "char_distance", "in_previous_sentence", "in_same_paragraph", "sentence_initial",
    "speech_verb_after", "genitive", "dative", "same_as_previous_speaker", "quote_is_telegram",
    "quote_has_person_tail", "rank_from_quote", "n_candidates",
    # person-level (from the people of the release)
    "is_person", "person_mentions", "person_in_lead", "citation_genitive",
    # a person of the release proposed for a role in the tail ("– деді дипломат" → Роберт Флойд)
    "person_candidate", "role_title_match", "is_guest",
)
PERSON_CANDIDATES = 6  # persons proposed for a role tail: title matches, the guest, the last named before
_CITATION = FEATURES.index("citation_genitive")
LEAD_CHARS = 300  # the lead: where a release introduces its people


@dataclass(frozen=True)
class Candidate:
    start: int
    end: int
    text: str
    kind: str
    source: str  # "tail", "context" or "person" (a person of the release proposed for a role tail)
    features: tuple[float, ...]
    person: int = -1  # for "person" candidates: index into People.persons


def _tail_mention(text: str, q: QuoteSpan) -> tuple[int, int] | None:
    """The speaker mention inside a quote's tail, without verb words and document nouns.

    "деп атап өтті Нұрсұлтан Назарбаев" → "Нұрсұлтан Назарбаев";
    "делінген Александр Лукашенконың хатында" → "Александр Лукашенконың";
    "делінген жеделхатта" → None (only the document is named).
    """
    if q.tail_start < 0 or not q.tail:
        return None
    verbs = word_set("verb_words")
    spans = [(m.start() + q.tail_start, m.end() + q.tail_start, m.group())
             for m in re.finditer(r"\S+", text[q.tail_start:q.tail_start + len(q.tail) + 1])]
    spans = [sp for sp in spans if sp[1] <= q.tail_start + len(q.tail) + 1]
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
    if _PARTICIPLE.search(words[-1]):
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
class _Index:
    """Per-release lookups built once: paragraph and sentence starts, the people."""

    nl: list[int]
    sent: list[int]  # offsets where a sentence starts (after ". ", "! ", a newline)
    people: People


def _index(text: str, people: People | None) -> _Index:
    nl = [m.start() for m in re.finditer("\n", text)]
    sent = sorted({m.end() for m in _SENT_SPLIT.finditer(text)} | {i + 1 for i in nl})
    return _Index(nl, sent, people or People(text))


_NONSPACE = re.compile(r"\S")

def _features(text: str, ix: _Index, q: QuoteSpan, s: int, e: int, kind: str, is_tail: bool,
              prev_mention: str, person_tail: bool, rank: int, n: int, role: str = "",
              person: int = -1) -> tuple[float, ...]:
    mention = text[s:e]
    if is_tail:
        kind = classify_mention(mention)
        kind = kind if kind in KINDS else "role"
    para_q = bisect.bisect_left(ix.nl, q.start)  # paragraph index = newlines before the offset
    para_m = bisect.bisect_left(ix.nl, s)
    dist = (s - q.end) if s >= q.end else (q.start - e)
    k = bisect.bisect_right(ix.sent, s)
    sent_start = ix.sent[k - 1] if k else 0
    prev_sent = False
    citation = False
    if s < q.start and q.start - e <= CONTEXT_CHARS:  # bounded: a proposed person may be named far before
        between = text[e:q.start]
        prev_sent = len(_SENT_SPLIT.findall(between)) <= 1 and "\n" not in between.rstrip("\n–—- «")
        # "Елбасының: «...»", "Елбасының жастар жөніндегі: «...»": the cited words are the genitive's
        # "Мемлекет басшысының «...» атты мақаласында: «...»": the words of the document's author
        citation = bool(GENITIVE.search(mention)) and "\n" not in between and (
            (len(between) <= 40 and between.rstrip(" ").endswith(("«", ":")) and not _SENT_SPLIT.search(between))
            or bool(_IN_DOCUMENT.match(between)))
    after = text[e:e + 120].split(".")[0]
    last = mention.split()[-1] if mention.split() else ""
    pi = person if person >= 0 else ix.people.person_at(s)
    p = ix.people.persons[pi] if pi >= 0 else None
    match = ix.people.role_score(role, pi) if role and pi >= 0 else 0.0
    return (
        float(is_tail), *(float(kind == k) for k in KINDS),
        float(min(abs(para_q - para_m), 5)), min(abs(dist), 2000) / 500.0, float(prev_sent),
        float(para_q == para_m), float(_NONSPACE.search(text, sent_start, s) is None),  # no slice: a sentence may be the whole text
        float(bool(SPEECH_AFTER.search(after))), float(bool(GENITIVE.search(last))),
        float(bool(DATIVE.search(last)) and kind != "first_president"),
        float(bool(prev_mention) and mention == prev_mention), float(q.kind == "telegram"),
        float(person_tail), min(rank, 10) / 10.0, min(n, 20) / 20.0,
        float(p is not None or kind in ("president", "first_president")),
        min(len(p.mentions), 10) / 10.0 if p else 0.0,
        float(p is not None and p.mentions[0][0] < LEAD_CHARS),
        float(citation),
        float(person >= 0), match, float(pi >= 0 and pi == ix.people.guest_index),
    )


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


def candidates_for(text: str, quotes: list[QuoteSpan], people: People | None = None) -> list[list[Candidate]]:
    """Candidate speaker mentions for every quote, in quote order (people built once if not given)."""
    out: list[list[Candidate]] = []
    if not quotes:
        return out
    prev_mention = ""
    ix = _index(text, people)
    mentions = ix.people.mentions
    m_starts = [m[0] for m in mentions]
    q_starts = [q.start for q in quotes]
    q_ends = [q.end for q in quotes]

    def in_quote(pos: int) -> bool:
        i = bisect.bisect_right(q_starts, pos)
        return bool(i) and pos < q_ends[i - 1]

    for q in quotes:
        raw: list[tuple[int, int, str, str]] = []
        tail = _tail_mention(text, q)
        if tail:
            raw.append((tail[0], tail[1], "tail", "tail"))
        lo = bisect.bisect_left(m_starts, q.start - CONTEXT_CHARS)
        hi = bisect.bisect_left(m_starts, q.start)
        # a capitalised run that is no person ("Ұлы Отан", "Жеделхатта") is no candidate
        ctx = [c for c in mentions[lo:hi] if c[1] <= q.start and not in_quote(c[0])
               and (c[2] != "name" or ix.people.person_at(c[0]) >= 0) and not _addressee(text, c, ix.people)]
        for s, e, kind in reversed(ctx):  # nearest first
            raw.append((s, e, kind, "context"))
        seen, uniq = set(), []
        for r in raw:
            if (r[0], r[1]) not in seen:
                seen.add((r[0], r[1]))
                uniq.append(r)
        uniq = uniq[:12]
        role = _role_tail(text, tail)
        cands = []
        for rank, (s, e, kind, src) in enumerate(uniq):
            k = "name" if kind == "tail" else kind
            feats = _features(text, ix, q, s, e, k, src == "tail", prev_mention, tail is not None, rank, len(uniq), role)
            cands.append(Candidate(s, e, text[s:e], k if src != "tail" else KINDS[int(np.argmax(feats[1:6]))],
                                   src, feats))
        if role:
            for pi, (s, e) in ix.people.proposed(role, q.start, PERSON_CANDIDATES):
                feats = _features(text, ix, q, s, e, "name", False, prev_mention, True, len(cands), len(uniq), role, pi)
                cands.append(Candidate(s, e, text[s:e], "name", "person", feats, pi))
        out.append(cands)
        if tail:
            prev_mention = text[tail[0]:tail[1]]
        elif cands:
            prev_mention = cands[0].text
    return out


def rule_scorer(x: np.ndarray) -> np.ndarray:
    """The transparent baseline: the tail mention if there is one, else the nearest mention before."""
    tail = x[:, FEATURES.index("is_tail")]
    rank_ = x[:, FEATURES.index("rank_from_quote")]
    return tail + (1.0 - rank_) * 0.5


def attribute_people(text: str, scorer, date=None) -> tuple[list[Quote], tuple[Person, ...]]:
    """Quotes of ``text`` with speakers, and the people of the release (``Quote.person`` indexes them);
    ``date`` (a ``datetime.date``) decides who the sitting president is (``_people.era_president``).

    ``scorer`` maps a float32 feature matrix to candidate probabilities: the shipped
    ONNX ranker (``Analyzer``), the trained sklearn model (training) or ``rule_scorer``.
    """
    quotes = find_quotes(text)
    people = People(text, date)
    all_cands = candidates_for(text, quotes, people)
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
            cited = [k for k, c in enumerate(cs) if c.features[_CITATION]]
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
