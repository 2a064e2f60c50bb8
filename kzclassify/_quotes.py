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

import numpy as np

DASH = "–—-"
_DASHES = f"[{DASH}]"
# Speech verbs that close a quote after ", –"; the words after them up to the
# sentence end are the tail (speaker mention, maybe with more verb words).
_VERB = r"(?:деді|деп|делінген|деген|дейді|депті)(?![\w])"
TAIL = re.compile(
    rf"(?P<punct>[,.!?…:;])?[ \u00a0]*{_DASHES}[ \u00a0]*(?P<verb>{_VERB})(?P<rest>)"
)
# After a closing guillemet the dash may be missing: «...» деген сөзіне, «...» деп жазады.
_GUILLEMET_TAIL = re.compile(rf"(?P<punct>,)?[ \u00a0]*(?:{_DASHES}[ \u00a0]*)?(?P<verb>{_VERB})(?P<rest>)")
# «...» деп аталған / деген тақырыппен / деген көне нақыл: a name or a saying, not speech
_NOT_SPEECH = re.compile(r"\s*(?:атал|тақырып|атпен|атты|атау|(?:\w+\s+){0,2}(?:нақыл|мақал))")
# A dash paragraph closed by a bare name: "..., – Нұрсұлтан Назарбаев."
_NAME_TAIL = re.compile(r"(?P<punct>,)[ \u00a0]*" + _DASHES + r"[ \u00a0]*(?P<verb>)(?P<rest>[А-ЯӘҒҚҢӨҰҮҺІ][^\n,–—]{2,60})$")
_OPEN_DASH = re.compile(rf"^{_DASHES}[ \u00a0]*", re.M)
# A colon introducing a guillemet quote: "... деді: «...»", "... хатында: «...»".
_INTRO_VERB = re.compile(
    r"(?:деді|деп|айтты|атап\s+өтті|жазды|жазған|мәлімдеді|делінген|хатында|жеделхатында|"
    r"құттықтауында|хатта|жеделхатта|сөзінде|мақаласында|жолдауында|үндеуінде|"
    r"құттықтау\s+хатында|былай|мынадай|ескертті|қосты)[^.!?\n]{0,60}:\s*$"
)


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


_TELEGRAM_WORDS = ("жеделхат", "хатта", "хатында", "құттықтау", "көңіл айту", "үндеу", "жолдау")


MAX_QUOTE_CHARS = 20_000  # a closing guillemet farther than this is not looked for
# A speech-verb tail ends at the sentence end, the line end or this many
# characters after the verb (the longest tail in the corpus has 79). Without a
# bound, one long line of «...» деді quotes would give every quote a tail to
# the line end: output, and time, quadratic in the line length.
MAX_TAIL_CHARS = 200
_INTRO_WINDOW = 200  # how far before « the introducing words "деді:" are looked for
_SHORT = 400  # quote length up to which counting its words by str.split is cheaper than the index

# A sentence end, but not the period of an initial ("Б.Сапарбаев").
_SENT_END = re.compile(r"(?<![\s.][А-ЯӘҒҚҢӨҰҮҺІA-Z])(?<!^[А-ЯӘҒҚҢӨҰҮҺІA-Z])[.!?](?=\s|$|[А-ЯӘҒҚҢӨҰҮҺІA-Z«])")
_MARK = re.compile(r"[.!?]")
_PUNCT = ",.!?…:;"
# where a TAIL can match: the dash and the verb (the optional punctuation and
# spaces before the dash are found by looking back from it, see _tail_search)
_DASH_VERB = re.compile(rf"{_DASHES}[ \u00a0]*{_VERB}")
# a closing guillemet that a TAIL or _GUILLEMET_TAIL can follow
# (spaces typed before the punctuation, "» , – деді", are allowed; written so that a run of spaces after »
# is scanned a bounded number of times, not once per split of the run)
_CLOSE_THEN_VERB = re.compile(rf"»(?=(?:[ \u00a0]*[,.!?…:;])?[ \u00a0]*(?:{_DASHES}[ \u00a0]*)?{_VERB})")
_SPACE_BEFORE_PUNCT = re.compile(r"[ \u00a0]+(?=[,.!?…:;])")
# an opening guillemet that _INTRO_VERB can introduce (its window ends in ":" and spaces)
_COLON_OPEN = re.compile(r":\s*«")
_COLON_DASH = re.compile(rf":[ \u00a0]*{_DASHES}[ \u00a0]*")
_NAME_TAIL_LINES = re.compile(_NAME_TAIL.pattern, re.M)
_WORD = re.compile(r"\S+")


def _sentence_end(text: str, pos: int, limit: int) -> int:
    cap = min(limit, pos + MAX_TAIL_CHARS)
    end = min(limit, cap + 1)
    # the lookbehinds of _SENT_END defeat the regex engine's fast scan: find the marks first
    for p in _MARK.finditer(text, pos, cap):
        m = _SENT_END.match(text, p.start(), end)
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


_TELEGRAM = re.compile("|".join(map(re.escape, _TELEGRAM_WORDS)))


def _kind(text: str, tail: str) -> str:
    return "telegram" if _TELEGRAM.search(tail.lower()) else ""


class _Index:
    """What the rules need to know about a text, computed once in O(n)."""

    def __init__(self, text: str):
        self.text = text
        self.n = len(text)
        # surrogatepass: a lone surrogate is one code point like any other
        cp = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
        self.cp = cp
        self.nl: list[int] = np.flatnonzero(cp == 10).tolist()
        self._words: list[int] | None = None

    def line_of(self, pos: int) -> int:
        return bisect.bisect_left(self.nl, pos)

    def line(self, li: int) -> tuple[int, int]:
        nl = self.nl
        return (nl[li - 1] + 1 if li else 0), (nl[li] if li < len(nl) else self.n)

    def line_end(self, pos: int) -> int:
        i = bisect.bisect_left(self.nl, pos)
        return self.nl[i] if i < len(self.nl) else self.n

    def line_start(self, pos: int) -> int:
        i = bisect.bisect_left(self.nl, pos)
        return self.nl[i - 1] + 1 if i else 0

    def n_words(self, a: int, b: int) -> int:
        """len(text[a:b].split()) without slicing long ranges."""
        if b - a <= _SHORT:
            return len(self.text[a:b].split())
        if self._words is None:
            self._words = [m.start() for m in _WORD.finditer(self.text)]
        w = self._words
        return (bisect.bisect_left(w, b) - bisect.bisect_right(w, a)) + (not self.text[a].isspace())

    def guillemet_pairs(self, closes=(), opens=()) -> list[tuple[int, int]]:
        """(open, close) of every « with its nesting-aware closing » less than MAX_QUOTE_CHARS away,
        sorted by open; only the pairs whose close is in ``closes`` or open in ``opens``.

        A » with no open « before it is ignored; the depth after each
        guillemet is the running sum reflected at zero, and at each depth the
        opens and closes alternate, so a stable sort by depth pairs them.
        """
        cp = self.cp
        pos = np.flatnonzero((cp == 0xAB) | (cp == 0xBB))
        if not len(pos):
            return []
        is_open = cp[pos] == 0xAB
        s = np.cumsum(np.where(is_open, 1, -1))
        depth = s - np.minimum(np.minimum.accumulate(s), 0)
        before = np.concatenate(([0], depth[:-1]))
        valid = is_open | (before > 0)
        level = np.where(is_open, depth, before)[valid]
        pos, is_open = pos[valid], is_open[valid]
        order = np.argsort(level, kind="stable")
        level, pos, is_open = level[order], pos[order], is_open[order]
        k = np.flatnonzero(is_open[:-1] & ~is_open[1:] & (level[:-1] == level[1:]))
        o, c = pos[k], pos[k + 1]
        keep = (c - o < MAX_QUOTE_CHARS) & (np.isin(c, np.asarray(closes, dtype=np.int64))
                                            | np.isin(o, np.asarray(opens, dtype=np.int64)))
        o, c = o[keep], c[keep]
        order = np.argsort(o)
        return list(zip(o[order].tolist(), c[order].tolist()))

    def lines_matching(self, *patterns: re.Pattern) -> list[int]:
        """Indices of the lines where any of the patterns matches (patterns never cross a newline)."""
        hits = [m.start() for p in patterns for m in p.finditer(self.text)]
        return np.unique(np.searchsorted(np.asarray(self.nl, dtype=np.int64), hits)).tolist() if hits else []


def _tail_search(text: str, pos: int, end: int):
    """``TAIL.search(text, pos, end)`` in time linear in ``end - pos``.

    The leftmost TAIL match belongs to the first dash followed by a verb: its
    start is the run of spaces before that dash and one punctuation mark
    before the run. Searching for the dash first avoids the regex trying every
    position of a long run of spaces.
    """
    m = _DASH_VERB.search(text, pos, end)
    if m is None:
        return None
    d = m.start()
    seg = text[pos:d]
    k = d - (len(seg) - len(seg.rstrip(" \u00a0")))
    if k > pos and text[k - 1] in _PUNCT:
        k -= 1
    return TAIL.match(text, k, end)


def _is_list_item(ix: _Index, li: int) -> bool:
    """A dash paragraph that is an item of an enumerated list, not speech."""
    text = ix.text
    s, e = ix.line(li)
    body = text[s:e].rstrip()
    if _tail_search(text, s, s + len(body)):
        return False
    if li:
        ps, pe = ix.line(li - 1)
        prev = text[ps:pe].rstrip()
    else:
        prev = ""
    if body.endswith(";"):
        return True
    if prev.endswith(":") and not _INTRO_VERB.search(prev):
        return True
    if _OPEN_DASH.match(prev) and prev.endswith(";"):
        return True
    return False


def _tail_at(text: str, pos: int, line_end: int, pattern=TAIL):
    m = pattern.match(text, pos, line_end)
    if not m:
        return None
    verb = " ".join(m.group("verb").split())
    rest_start = m.start("rest")
    if _NOT_SPEECH.match(text, rest_start, line_end):
        return None
    stop = _sentence_end(text, rest_start, line_end)
    tail = text[rest_start:stop].strip().rstrip(".!?").strip()
    return m, verb, tail, rest_start, stop


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


# Other double quotation marks, read as guillemets: straight "…", English “…”, German/Russian „…“.
_OTHER_QUOTES = re.compile('["\u201c\u201d\u201e]')
_OPENS_AFTER = frozenset(" \t\n\u00a0([{:«–—-\u201e")


def as_guillemets(text: str) -> str:
    """``text`` with other double quotation marks written as « and » (same length, so offsets hold).

    A mark opens when it starts the text or follows a space, an opening bracket, a colon, a dash or an
    opening mark ("„" always opens); otherwise it closes. The annotators read a straight-quoted letter
    ("…: "Армения Республикасы мен …", – деп жазған.") as a quote, like one in guillemets. Linear: one
    scan for the marks, and the text is copied only when it has any.
    """
    marks = [m.start() for m in _OTHER_QUOTES.finditer(text)]
    if not marks:
        return text
    out, last = [], 0
    for i in marks:
        opens = text[i] == "\u201e" or i == 0 or text[i - 1] in _OPENS_AFTER
        out.append(text[last:i])
        out.append("«" if opens else "»")
        last = i + 1
    out.append(text[last:])
    return "".join(out)


def find_quotes(text: str) -> list[QuoteSpan]:
    """Find direct quotes in ``text`` by the rules of the annotation guide.

    Returns spans sorted by start; ``text[q.start:q.end]`` is the quote content
    without dashes, guillemets, the comma before the closing dash or the tail.
    Other double quotation marks count as guillemets (``as_guillemets``).
    Linear in ``len(text)``; a tail is at most MAX_TAIL_CHARS long and a
    guillemet quote at most MAX_QUOTE_CHARS.
    """
    if not text:
        return []
    text = as_guillemets(text)
    ix = _Index(text)
    stage: list[QuoteSpan] = []
    done: list[QuoteSpan] = []

    def add(start, end, kind, tail_info):
        start, end = _trim_quote(text, start, end)
        if end - start < 2:
            return False
        if tail_info is None:
            q = QuoteSpan(start, end, kind, "", -1, -1, "", "", -1)
        else:
            m, verb, tail, rest_start, stop = tail_info
            cue_start = m.start()
            q = QuoteSpan(start, end, _kind(text, tail) or kind, text[cue_start:stop].strip(),
                          cue_start, stop, verb, tail, rest_start)
        stage.append(q)
        return True

    # 1. dash paragraphs
    for om in _OPEN_DASH.finditer(text):
        li = ix.line_of(om.start())
        s, e = ix.line(li)
        if _is_list_item(ix, li):
            continue
        qs = om.end()
        p, info = qs, None
        while True:
            t = _tail_search(text, p, e)
            if t is None:
                info = None
                break
            info = _tail_at(text, t.start(), e) if t.start() > qs else None
            if info:
                break
            p = t.end()
        if info is None:
            n = _NAME_TAIL.search(text, qs, e)
            if n:
                add(qs, n.start(), "dash", _tail_at(text, n.start(), e, _NAME_TAIL))
            else:
                add(qs, e, "dash", None)
            continue
        add(qs, t.start() + (0 if t.group("punct") in (None, ",") else 1), "dash", info)
        # the quotation resumes after the tail in the same paragraph: "– A, – деді X. – B."
        rest = info[4]
        after = text[rest:e]
        r2 = _OPEN_DASH.match(after.lstrip())
        if r2:
            off = rest + (len(after) - len(after.lstrip())) + r2.end()
            t2 = _tail_search(text, off, e)
            info2 = _tail_at(text, t2.start(), e) if t2 else None
            add(off, t2.start() if info2 else e, "dash", info2 or info)
    done, stage = stage, []
    # 2. guillemet quotes attributed by a speech verb (may span paragraphs)
    covered = _Covered([q.start for q in done], [q.end for q in done])
    # only a pair with a speech verb after it or a colon before it can be a quote
    pairs = ix.guillemet_pairs(closes=[m.start() for m in _CLOSE_THEN_VERB.finditer(text)],
                               opens=[m.end() - 1 for m in _COLON_OPEN.finditer(text)])
    i = 0
    for o, c in pairs:
        if o < i:
            continue
        line_end = ix.line_end(c)
        sp = _SPACE_BEFORE_PUNCT.match(text, c + 1, line_end)
        after = sp.end() if sp else c + 1  # the tail starts at the punctuation, not at a space typed before it
        tail_info = _tail_at(text, after, line_end)
        if tail_info is None:
            g = _tail_at(text, after, line_end, _GUILLEMET_TAIL)
            if g is not None and ix.n_words(o + 1, c) >= 5:
                tail_info = g
        if tail_info is None:
            lo = max(ix.line_start(o), o - _INTRO_WINDOW)
            if not _INTRO_VERB.search(text[lo:o]):
                continue
        if covered.overlaps(o, o + 1):
            continue
        if add(o + 1, c, "guillemet", tail_info):
            covered.added.append((stage[-1].start, stage[-1].end))
        i = c + 1
    # 3. a paragraph without an opening dash closed by "– деді ..."
    merged = list(heapq.merge(((q.start, 0, q.end) for q in stage), ((q.start, 1, q.end) for q in done)))
    done += stage
    stage = []
    covered = _Covered([m[0] for m in merged], [m[2] for m in merged])
    for li in ix.lines_matching(_DASH_VERB, _NAME_TAIL_LINES):
        s, e = ix.line(li)
        if _OPEN_DASH.match(text, s, e) or covered.overlaps(s, e):
            continue
        t = _tail_search(text, s, e)
        pattern = TAIL
        if not t:
            t, pattern = _NAME_TAIL.search(text, s, e), _NAME_TAIL
        if not t or t.group("punct") not in (",", "!", "?", "…"):
            continue
        tail_info = _tail_at(text, t.start(), e, pattern)
        if tail_info is None or tail_info[4] < e - 1:  # the tail must close the paragraph
            continue
        # "Мемлекет басшысы: – Біз …, – деді.": the words before a colon and a dash introduce the quote
        intro = None
        for intro in _COLON_DASH.finditer(text, s, t.start()):
            pass
        start = intro.end() if intro else s
        if add(start, t.start() + (0 if t.group("punct") == "," else 1), "dash", tail_info):
            covered.added.append((stage[-1].start, stage[-1].end))
    out = done + stage
    out.sort(key=lambda q: q.start)
    return out
