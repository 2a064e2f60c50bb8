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

import re
from dataclasses import dataclass

import numpy as np

from ._quotes import QuoteSpan, find_quotes
from ._speakers import LO, UP, classify_mention, lexicon, resolve

_DOC_NOUN = re.compile(
    r"\s+(?:\w+\s+)?(?:жеделхат\w*|хат\w*|құттықтау\w*|үндеу\w*|жолдау\w*|мақала\w*|сөзі\w*|"
    r"көңіл\s+айту\s+\w+|кітаб\w*|мәлімдеме\w*|баяндама\w*)$")
_MENTION = re.compile(
    rf"(?P<first>(?:Елбасы|Тұңғыш\s+Президент|Ұлт\s+Көшбасшысы)[{LO}]*)"
    rf"|(?P<pres>(?:Қазақстан\s+Республикасының\s+Президент|Қазақстан\s+Президент|ҚР\s+Президент|"
    rf"Мемлекет\s+басшы|Президент)[{LO}]*)"
    rf"|(?P<name>(?:[{UP}]\.\s?){{1,2}}[{UP}][{LO}-]+|[{UP}][{LO}]+(?:-[{UP}][{LO}]+)?(?:\s+(?:[{UP}][{LO}]+(?:-[{UP}][{LO}]+)?|ван|дер|де|бен|II|ІІ)){{1,3}})"
)
_SPEECH_AFTER = re.compile(
    r"(айтты|деді|атап өтті|сөйле|жолдады|жіберді|жеделхат|хат\w*|құттықта|көңіл айт|мәлімде|"
    r"тоқталды|түйіндеді|жазды|жазған|жеткізді|білдірді|сөз\w*|ой\w* бөлісті|пікір\w*)")
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
    if q.tail_start < 0 or not q.tail:
        return None
    s = text.find(q.tail, q.tail_start)
    if s < 0:
        return None
    mention = _DOC_NOUN.sub("", q.tail)
    if _DOC_NOUN.fullmatch(" " + q.tail) or not mention.strip():
        return None  # the tail names only the document ("делінген жеделхатта")
    return s, s + len(mention)


def _context_mentions(text: str, start: int, window: int = 700) -> list[tuple[int, int, str]]:
    lo = max(0, start - window)
    out = []
    for m in _MENTION.finditer(text, lo, start):
        kind = "first_president" if m.group("first") else "president" if m.group("pres") else "name"
        out.append((m.start(), m.end(), kind))
    return out


def _features(text: str, q: QuoteSpan, s: int, e: int, kind: str, is_tail: bool, prev_mention: str,
              person_tail: bool, rank: int, n: int) -> tuple[float, ...]:
    mention = text[s:e]
    if is_tail:
        kind = classify_mention(mention)
        kind = kind if kind in KINDS else "role"
    para_q = text.count("\n", 0, q.start)
    para_m = text.count("\n", 0, s)
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
    prev_mention = ""
    quote_spans = [(q.start, q.end) for q in quotes]
    for q in quotes:
        raw: list[tuple[int, int, str, str]] = []
        tail = _tail_mention(text, q)
        if tail:
            raw.append((tail[0], tail[1], "tail", "tail"))
        ctx = [c for c in _context_mentions(text, q.start)
               if not any(a <= c[0] < b for a, b in quote_spans)]
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
            feats = _features(text, q, s, e, k, src == "tail", prev_mention, tail is not None, rank, len(uniq))
            cands.append(Candidate(s, e, text[s:e], k if src != "tail" else KINDS[int(np.argmax(feats[1:6]))],
                                   src, feats))
        out.append(cands)
        if tail:
            prev_mention = text[tail[0]:tail[1]]
        elif cands:
            prev_mention = cands[0].text
    return out


def rank(cands: list[Candidate]) -> np.ndarray:
    """Ranker probabilities for candidates (one ONNX call)."""
    from ._model import get_model
    if not cands:
        return np.zeros(0, dtype=np.float32)
    m = get_model("quote_speaker")
    x = np.array([c.features for c in cands], dtype=np.float32)
    return m.session.run(None, {"features": x})[1][:, 1]


def attribute(text: str):
    """Quotes of ``text`` with speakers (the runtime path of ``kzclassify.extract_quotes``)."""
    from ._api import Quote

    quotes = find_quotes(text)
    all_cands = candidates_for(text, quotes)
    flat = [c for cs in all_cands for c in cs]
    probs = rank(flat)
    out, i = [], 0
    for q, cs in zip(quotes, all_cands):
        p = probs[i:i + len(cs)]
        i += len(cs)
        if cs:
            j = int(np.argmax(p))
            c = cs[j]
            res = resolve(c.text, text, q.start)
            out.append(Quote(text[q.start:q.end], q.start, q.end, q.kind, q.cue, res.speaker, c.text,
                             c.start, c.end, res.how, round(float(p[j]) * res.score, 4)))
        else:
            out.append(Quote(text[q.start:q.end], q.start, q.end, q.kind, q.cue, "", "", -1, -1, "none", 0.0))
    return out
