"""Transparent rules that find direct quotes (ANNOTATION_GUIDE.md section 2).

Every offset is into the string given to :func:`find_quotes`, so callers can
pass either the display text of a release or their own text.

Time is linear in the text length (n log n at worst for guillemet nesting):
newlines, guillemet pairs and the places where a rule can fire are found
once per text by whole-text scans; the per-line and per-quote rules then run
only where such a place is, and every regex search is anchored or bounded so
that no character is scanned again for each quote.
"""
from __future__ import annotations

import bisect
import heapq
import re
from dataclasses import dataclass

from ._doc import MAX_QUOTE_CHARS, Doc, as_guillemets  # noqa: F401  (re-exported: the quote-mark rule, the bound)
from ._morphology import (COLON_DASH, GUILLEMET_TAIL, INTRO_VERB, NAME_TAIL, NOT_SPEECH, OPEN_DASH, SENT_END, SENTENCE_MARKS,
                          SPACE_BEFORE_PUNCT, TAIL, TAIL_PUNCT, TELEGRAM, DASH_VERB)


@dataclass(frozen=True)
class QuoteSpan:
    """A detected quote before speaker attribution."""

    start: int
    end: int
    kind: str  # "dash", "guillemet" or "telegram"
    cue: str  # the attribution words (", – деді Президент.") or "" when none
    cue_start: int  # offset of the cue, -1 when none
    cue_end: int
    verb: str  # normalised speech verb, "" when none
    tail: str  # words after the verb up to the sentence end (speaker mention area)
    tail_start: int


# A speech-verb tail ends at the sentence end, the line end or this many
# characters after the verb (the longest tail in the corpus has 79). Without a
# bound, one long line of «...» деді quotes would give every quote a tail to
# the line end: output, and time, quadratic in the line length.
MAX_TAIL_CHARS = 200
_INTRO_WINDOW = 200  # how far before « the introducing words "деді:" are looked for


def _sentence_end(doc: Doc, pos: int, limit: int) -> int:
    cap = min(limit, pos + MAX_TAIL_CHARS)
    end = min(limit, cap + 1)
    # the lookbehinds of SENT_END defeat the regex engine's fast scan: the Doc's marks are the candidates
    for p in doc.marks_in(pos, cap):
        m = SENT_END.match(doc.quoted, p, end)
        if m:
            return m.end()
    return cap


def _trim_quote(text: str, start: int, end: int) -> tuple[int, int]:
    """Without the spaces at both ends and a final comma (str methods: no loop per space)."""
    seg = text[start:end]
    core = seg.lstrip()
    start += len(seg) - len(core)
    core = core.rstrip()
    if core.endswith(","):
        core = core[:-1].rstrip()
    return start, start + len(core)


def _kind(tail: str) -> str:
    return "telegram" if TELEGRAM.search(tail.lower()) else ""


def _tail_search(text: str, pos: int, end: int):
    """``TAIL.search(text, pos, end)`` in time linear in ``end - pos``.

    The leftmost TAIL match belongs to the first dash followed by a verb: its
    start is the run of spaces before that dash and one punctuation mark
    before the run. Searching for the dash first avoids the regex trying every
    position of a long run of spaces.
    """
    m = DASH_VERB.search(text, pos, end)
    if m is None:
        return None
    d = m.start()
    seg = text[pos:d]
    k = d - (len(seg) - len(seg.rstrip(" \u00a0")))
    if k > pos and text[k - 1] in TAIL_PUNCT:
        k -= 1
    return TAIL.match(text, k, end)


def _is_list_item(doc: Doc, li: int) -> bool:
    """A dash paragraph that is an item of an enumerated list, not speech."""
    text = doc.quoted
    s, e = doc.paragraph(li)
    body = text[s:e].rstrip()
    if _tail_search(text, s, s + len(body)):
        return False
    if li:
        ps, pe = doc.paragraph(li - 1)
        prev = text[ps:pe].rstrip()
    else:
        prev = ""
    if body.endswith(";"):
        return True
    if prev.endswith(":") and not INTRO_VERB.search(prev):
        return True
    if OPEN_DASH.match(prev) and prev.endswith(";"):
        return True
    return False


@dataclass(frozen=True)
class _Tail:
    """The attribution after a quote: the cue's match (groups punct, verb, rest), the speech verb, the tail
    words up to the sentence end and where they start and stop."""

    match: re.Match
    verb: str
    tail: str
    rest_start: int
    stop: int


def _tail_at(doc: Doc, pos: int, line_end: int, pattern=TAIL) -> _Tail | None:
    text = doc.quoted
    m = pattern.match(text, pos, line_end)
    if not m:
        return None
    verb = " ".join(m.group("verb").split())
    rest_start = m.start("rest")
    if NOT_SPEECH.match(text, rest_start, line_end):
        return None
    stop = _sentence_end(doc, rest_start, line_end)
    tail = text[rest_start:stop].strip().rstrip(SENTENCE_MARKS).strip()
    return _Tail(m, verb, tail, rest_start, stop)


class _Covered:
    """Which text the quotes found so far cover, as the rules ask it.

    The spans are kept, as they always were, in one list sorted by start (of
    equal starts the later-added first), and a position counts as covered when
    the span before it in that list reaches past it. A later stage only adds
    spans after every position it still asks about, so the spans of earlier
    stages are a fixed sorted list and the current stage's spans are a stack.
    """

    def __init__(self, starts: list[int], ends: list[int]):
        self.starts, self.ends = starts, ends
        self.added: list[tuple[int, int]] = []

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect.bisect_right(self.starts, start)
        pred_start, pred_end = (self.starts[i - 1], self.ends[i - 1]) if i else (-1, -1)
        if self.added and self.added[-1][0] > pred_start:
            pred_start, pred_end = self.added[-1]
        if i or self.added:
            if pred_end > start:
                return True
        return i < len(self.starts) and self.starts[i] < end


class _Stage:
    """The quotes one stage of the rules adds: trimmed, at least two characters, with their tail."""

    def __init__(self, doc: Doc):
        self.doc = doc
        self.spans: list[QuoteSpan] = []

    def add(self, start: int, end: int, kind: str, tail: _Tail | None) -> bool:
        start, end = _trim_quote(self.doc.quoted, start, end)
        if end - start < 2:
            return False
        if tail is None:
            q = QuoteSpan(start, end, kind, "", -1, -1, "", "", -1)
        else:
            cue_start = tail.match.start()
            q = QuoteSpan(start, end, _kind(tail.tail) or kind, self.doc.quoted[cue_start:tail.stop].strip(),
                          cue_start, tail.stop, tail.verb, tail.tail, tail.rest_start)
        self.spans.append(q)
        return True


def _first_tail(doc: Doc, qs: int, e: int):
    """The first speech-verb tail after ``qs`` in the paragraph ending at ``e``: (its match, the tail) or
    (None, None)."""
    p = qs
    while True:
        t = _tail_search(doc.quoted, p, e)
        if t is None:
            return None, None
        info = _tail_at(doc, t.start(), e) if t.start() > qs else None
        if info:
            return t, info
        p = t.end()


def _dash_paragraph(doc: Doc, out: _Stage, qs: int, e: int) -> None:
    """One paragraph opened by a dash: the quote up to its tail (or a bare name closing it, or the
    paragraph end), and the quotation resuming after the tail: "– A, – деді X. – B."."""
    text = doc.quoted
    t, info = _first_tail(doc, qs, e)
    if info is None:
        n = NAME_TAIL.search(text, qs, e)
        if n:
            out.add(qs, n.start(), "dash", _tail_at(doc, n.start(), e, NAME_TAIL))
        else:
            out.add(qs, e, "dash", None)
        return
    out.add(qs, t.start() + (0 if t.group("punct") in (None, ",") else 1), "dash", info)
    after = text[info.stop:e]
    r2 = OPEN_DASH.match(after.lstrip())
    if r2:
        off = info.stop + (len(after) - len(after.lstrip())) + r2.end()
        t2 = _tail_search(text, off, e)
        info2 = _tail_at(doc, t2.start(), e) if t2 else None
        out.add(off, t2.start() if info2 else e, "dash", info2 or info)


def _dash_paragraphs(doc: Doc) -> list[QuoteSpan]:
    """Stage 1: paragraphs opened by a dash that are not items of a list."""
    out = _Stage(doc)
    for o_start, qs in doc.dash_openings:
        li = doc.paragraph_of(o_start)
        if not _is_list_item(doc, li):
            _dash_paragraph(doc, out, qs, doc.paragraph(li)[1])
    return out.spans


def _guillemet_tail(doc: Doc, o: int, c: int) -> tuple[bool, _Tail | None]:
    """Whether the pair «…» at (o, c) is a quote, and its tail: a speech verb after it (without a dash only
    for five words or more), else words like "деді:" before it in its paragraph."""
    text = doc.quoted
    line_end = doc.line_end(c)
    sp = SPACE_BEFORE_PUNCT.match(text, c + 1, line_end)
    after = sp.end() if sp else c + 1  # the tail starts at the punctuation, not at a space typed before it
    tail = _tail_at(doc, after, line_end)
    if tail is None:
        g = _tail_at(doc, after, line_end, GUILLEMET_TAIL)
        if g is not None and doc.n_words(o + 1, c) >= 5:
            tail = g
    if tail is None:
        lo = max(doc.line_start(o), o - _INTRO_WINDOW)
        if not INTRO_VERB.search(text[lo:o]):
            return False, None
    return True, tail


def _guillemet_quotes(doc: Doc, dash: list[QuoteSpan]) -> list[QuoteSpan]:
    """Stage 2: guillemet quotes attributed by a speech verb after them or a colon before (may span
    paragraphs); not inside a dash quote, not nested in the previous one."""
    out = _Stage(doc)
    covered = _Covered([q.start for q in dash], [q.end for q in dash])
    # only a pair with a speech verb after it or a colon before it can be a quote
    i = 0
    for o, c in doc.guillemet_pairs(closes=doc.closes_before_verb, opens=doc.colon_opens):
        if o < i:
            continue
        is_quote, tail = _guillemet_tail(doc, o, c)
        if not is_quote or covered.overlaps(o, o + 1):
            continue
        if out.add(o + 1, c, "guillemet", tail):
            covered.added.append((out.spans[-1].start, out.spans[-1].end))
        i = c + 1
    return out.spans


def _closed_paragraphs(doc: Doc, dash: list[QuoteSpan], guillemet: list[QuoteSpan]) -> list[QuoteSpan]:
    """Stage 3: a paragraph without an opening dash closed by "– деді ..." (or a dash and a bare name)."""
    text = doc.quoted
    out = _Stage(doc)
    merged = list(heapq.merge(((q.start, 0, q.end) for q in guillemet), ((q.start, 1, q.end) for q in dash)))
    covered = _Covered([m[0] for m in merged], [m[2] for m in merged])
    for li in doc.dash_verb_lines:
        s, e = doc.paragraph(li)
        if OPEN_DASH.match(text, s, e) or covered.overlaps(s, e):
            continue
        t = _tail_search(text, s, e)
        pattern = TAIL
        if not t:
            t, pattern = NAME_TAIL.search(text, s, e), NAME_TAIL
        if not t or t.group("punct") not in (",", "!", "?", "…"):
            continue
        tail = _tail_at(doc, t.start(), e, pattern)
        if tail is None or tail.stop < e - 1:  # the tail must close the paragraph
            continue
        # "Мемлекет басшысы: – Біз …, – деді.": the words before a colon and a dash introduce the quote
        intro = None
        for intro in COLON_DASH.finditer(text, s, t.start()):
            pass
        start = intro.end() if intro else s
        if out.add(start, t.start() + (0 if t.group("punct") == "," else 1), "dash", tail):
            covered.added.append((out.spans[-1].start, out.spans[-1].end))
    return out.spans


def find_quotes(text: "str | Doc") -> list[QuoteSpan]:
    """Find direct quotes in ``text`` by the rules of the annotation guide.

    Returns spans sorted by start; ``text[q.start:q.end]`` is the quote content
    without dashes, guillemets, the comma before the closing dash or the tail.
    Other double quotation marks count as guillemets (``as_guillemets``).
    Linear in ``len(text)``; a tail is at most MAX_TAIL_CHARS long and a
    guillemet quote at most MAX_QUOTE_CHARS. Three stages, each seeing what the
    earlier ones found: dash paragraphs, guillemet quotes, paragraphs closed by a tail.
    """
    doc = Doc.of(text)
    if not doc.text:
        return []
    dash = _dash_paragraphs(doc)
    guillemet = _guillemet_quotes(doc, dash)
    out = dash + guillemet + _closed_paragraphs(doc, dash, guillemet)
    out.sort(key=lambda q: q.start)
    return out
