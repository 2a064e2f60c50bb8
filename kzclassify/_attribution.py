"""Quote → speaker mention → canonical speaker.

Stage 1 (this module + the ``quote_speaker`` ONNX ranker): candidate mentions
around each quote (the attribution tail, names and titles in the text before
it, the previous quote's speaker) are scored by a trained ranker from the
features below; the best one is the speaker mention.
Stage 2 (``_speakers.resolve``): the mention becomes a canonical person.

Candidate generation and features live here so that training imports exactly
what inference runs.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

import numpy as np

from ._quotes import QuoteSpan, find_quotes
from ._types import Quote
from ._speakers import _NOT_NAME_START, LO, UP, _is_title_word, classify_mention, lexicon, resolve

_DOC_NOUN = re.compile(
    r"\s+(?:жеделхат\w*|хат|хатта|хатында|хатын|хаты|хатымен|хаттарында|құттықтау\w*|үндеу\w*|жолдау\w*|мақала\w*|сөзі\w*|"
    r"көңіл\s+айту\s+\w+|кітаб\w*|мәлімдеме\w*|баяндама\w*)$")
_MENTION = re.compile(
    rf"(?P<first>(?:Елбасы|Тұңғыш\s+Президент|Ұлт\s+Көшбасшысы)[{LO}]*)"
    rf"|(?P<pres>(?:Қазақстан\s+Республикасының\s+Президент|Қазақстан\s+Президент|ҚР\s+Президент|"
    rf"Мемлекет\s+басшы|Президент)[{LO}]*)"
    rf"|(?P<role>Мемлекеттік\s+хатшы[{LO}]*|(?:[{UP}][{LO}]+\s+)?облысының\s+әкімі[{LO}]*)"
    rf"|(?P<name>(?:[{UP}]\.\s?){{1,2}}[{UP}][{LO}-]+|[{UP}][{LO}]+(?:-[{UP}][{LO}]+)?(?:\s+(?:[{UP}][{LO}]+(?:-[{UP}][{LO}]+)?|ван|дер|де|бен|II|ІІ)){{1,6}})"
)
_SPEECH_AFTER = re.compile(
    r"(айтты|деді|атап өтті|сөйле|жолдады|жіберді|жеделхат|хат\w*|құттықта|көңіл айт|мәлімде|"
    r"тоқталды|түйіндеді|жазды|жазған|жеткізді|білдірді|сөз\w*|ой\w* бөлісті|пікір\w*)")
_CASE_END = re.compile(r"(ты|ті|ны|ні|ға|ге|қа|ке|ның|нің|тың|тің|дың|дің|мен|бен|пен|нда|нде|да|де|та|те)$")
_GENITIVE = re.compile(r"(ның|нің|тың|тің|дың|дің)$")
_DATIVE = re.compile(r"(ға|ге|қа|ке|на|не)$")
_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+")

KINDS = ("name", "president", "first_president", "role", "pronoun")
FEATURES = (
    "is_tail", "kind_name", "kind_president", "kind_first_president", "kind_role", "kind_pronoun",
    "para_distance", "char_distance", "in_previous_sentence", "in_same_paragraph", "sentence_initial",
    "speech_verb_after", "genitive", "dative", "same_as_previous_speaker", "quote_is_telegram",
    "quote_has_person_tail", "rank_from_quote", "n_candidates",
)


@dataclass(frozen=True)
class Candidate:
    start: int
    end: int
    text: str
    kind: str
    source: str  # "tail", "context" or "previous"
    features: tuple[float, ...]


def _tail_mention(text: str, q: QuoteSpan) -> tuple[int, int] | None:
    """The speaker mention inside a quote's tail, without verb words and document nouns.

    "деп атап өтті Нұрсұлтан Назарбаев" → "Нұрсұлтан Назарбаев";
    "делінген Александр Лукашенконың хатында" → "Александр Лукашенконың";
    "делінген жеделхатта" → None (only the document is named).
    """
    if q.tail_start < 0 or not q.tail:
        return None
    verbs = set(lexicon()["verb_words"])
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
    while _DOC_NOUN.search(mention):
        mention = _DOC_NOUN.sub("", mention)
    if not mention.strip() or _DOC_NOUN.fullmatch(" " + text[s:e].rstrip(".,")):
        return None  # the tail names only the document ("делінген жеделхатта")
    lx = lexicon()
    words = mention.split()
    if not any(ch.isupper() for ch in mention) and words[-1] not in lx["roles"] and mention not in lx["pronouns"]:
        return None  # verb or document words, not a person ("сөзіне назар аударды", "құттықтау")
    return s, s + len(mention)


def _all_mentions(text: str) -> list[tuple[int, int, str]]:
    """Every person mention (name, title, role) in the text, in order: one scan per release."""
    out = []
    for m in _MENTION.finditer(text):
        kind = ("first_president" if m.group("first") else "president" if m.group("pres")
                else "role" if m.group("role") else "name")
        if kind != "name":
            out.append((m.start(), m.end(), kind))
            continue
        # "Барак Обама Нұрсұлтан Назарбаевты", "Нұрсұлтан Назарбаев Қазақстанда": split into mentions;
        # "Кипр Республикасының Президенті Никос Анастасиадис" stays one (title + name)
        words = [(w.start() + m.start(), w.end() + m.start(), w.group()) for w in re.finditer(r"\S+", m.group())]
        while words and (words[0][2] in lexicon()["sentence_starts"] or _NOT_NAME_START.search(words[0][2])):
            words.pop(0)
        cur: list = []
        for w in words:
            if cur and w[2].startswith(("Қасым-Жомарт", "Нұрсұлтан", "Қазақстан")):
                out.append((cur[0][0], cur[-1][1], "name"))
                cur = []
            if len(cur) >= 2 and _is_title_word(w[2]) and not _is_title_word(cur[-1][2]):
                out.append((cur[0][0], cur[-1][1], "name"))  # "Назарбаев Қытай Төрағасы Си..."
                cur = []
            if not (not cur and w[2].startswith("Қазақстан")):
                cur.append(w)
            if len(cur) >= 2 and _CASE_END.search(w[2]) and not _is_title_word(w[2]):
                out.append((cur[0][0], cur[-1][1], "name"))
                cur = []
        if cur:
            out.append((cur[0][0], cur[-1][1], "name"))
    return out


CONTEXT_CHARS = 700  # how far before a quote mentions are candidates


def _features(text: str, nl: list[int], q: QuoteSpan, s: int, e: int, kind: str, is_tail: bool,
              prev_mention: str, person_tail: bool, rank: int, n: int) -> tuple[float, ...]:
    mention = text[s:e]
    if is_tail:
        kind = classify_mention(mention)
        kind = kind if kind in KINDS else "role"
    para_q = bisect.bisect_left(nl, q.start)  # paragraph index = newlines before the offset
    para_m = bisect.bisect_left(nl, s)
    dist = (s - q.end) if s >= q.end else (q.start - e)
    line_start = text.rfind("\n", 0, s) + 1
    sent_start = max(line_start, max((m.end() for m in _SENT_SPLIT.finditer(text, line_start, s)), default=line_start))
    prev_sent = False
    if s < q.start:
        between = text[e:q.start]
        prev_sent = len(_SENT_SPLIT.findall(between)) <= 1 and "\n" not in between.rstrip("\n–—- «")
    after = text[e:e + 120].split(".")[0]
    last = mention.split()[-1] if mention.split() else ""
    return (
        float(is_tail), *(float(kind == k) for k in KINDS),
        float(min(abs(para_q - para_m), 5)), min(abs(dist), 2000) / 500.0, float(prev_sent),
        float(para_q == para_m), float(text[sent_start:s].strip() == ""),
        float(bool(_SPEECH_AFTER.search(after))), float(bool(_GENITIVE.search(last))),
        float(bool(_DATIVE.search(last)) and kind != "first_president"),
        float(bool(prev_mention) and mention == prev_mention), float(q.kind == "telegram"),
        float(person_tail), min(rank, 10) / 10.0, min(n, 20) / 20.0,
    )


def candidates_for(text: str, quotes: list[QuoteSpan]) -> list[list[Candidate]]:
    """Candidate speaker mentions for every quote, in quote order."""
    out: list[list[Candidate]] = []
    if not quotes:
        return out
    prev_mention = ""
    nl = [m.start() for m in re.finditer("\n", text)]
    mentions = _all_mentions(text)
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
        ctx = [c for c in mentions[lo:hi] if c[1] <= q.start and not in_quote(c[0])]
        for s, e, kind in reversed(ctx):  # nearest first
            raw.append((s, e, kind, "context"))
        seen, uniq = set(), []
        for r in raw:
            if (r[0], r[1]) not in seen:
                seen.add((r[0], r[1]))
                uniq.append(r)
        uniq = uniq[:12]
        cands = []
        for rank, (s, e, kind, src) in enumerate(uniq):
            k = "name" if kind == "tail" else kind
            feats = _features(text, nl, q, s, e, k, src == "tail", prev_mention, tail is not None, rank, len(uniq))
            cands.append(Candidate(s, e, text[s:e], k if src != "tail" else KINDS[int(np.argmax(feats[1:6]))],
                                   src, feats))
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


def attribute(text: str, scorer) -> list[Quote]:
    """Quotes of ``text`` with speakers (the runtime path of ``kzclassify.extract_quotes``).

    ``scorer`` maps a float32 feature matrix to candidate probabilities: the shipped
    ONNX ranker (``Analyzer``), the trained sklearn model (training) or ``rule_scorer``.
    """
    quotes = find_quotes(text)
    all_cands = candidates_for(text, quotes)
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
            c = cs[j]
            res = resolve(c.text, text, q.start)
            out.append(Quote(text[q.start:q.end], q.start, q.end, q.kind, q.cue, res.speaker, c.text,
                             c.start, c.end, res.how, round(float(p[j]) * res.score, 4)))
        else:
            out.append(Quote(text[q.start:q.end], q.start, q.end, q.kind, q.cue, "", "", -1, -1, "none", 0.0))
    return out
