"""Transparent rules that find direct quotes (ANNOTATION_GUIDE.md section 2).

Every offset is into the string given to :func:`find_quotes`, so callers can
pass either the display text of a release or their own text.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

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


# a sentence end, but not the period of an initial ("Б.Сапарбаев")
_SENT_END = re.compile(r"(?<![\s.][А-ЯӘҒҚҢӨҰҮҺІA-Z])(?<!^[А-ЯӘҒҚҢӨҰҮҺІA-Z])[.!?](?=\s|$|[А-ЯӘҒҚҢӨҰҮҺІA-Z«])")


def _sentence_end(text: str, pos: int, limit: int) -> int:
    m = _SENT_END.search(text, pos, limit)
    return m.end() if m else limit


def _trim_quote(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start and text[end - 1] == ",":
        end -= 1
        while end > start and text[end - 1].isspace():
            end -= 1
    return start, end


def _kind(text: str, tail: str) -> str:
    low = tail.lower()
    return "telegram" if any(w in low for w in _TELEGRAM_WORDS) else ""


def _is_list_item(lines: list[tuple[int, int]], text: str, i: int) -> bool:
    """A dash paragraph that is an item of an enumerated list, not speech."""
    s, e = lines[i]
    body = text[s:e].rstrip()
    if TAIL.search(body):
        return False
    prev = text[lines[i - 1][0]:lines[i - 1][1]].rstrip() if i else ""
    if body.endswith(";"):
        return True
    if prev.endswith(":") and not _INTRO_VERB.search(prev):
        return True
    if _OPEN_DASH.match(prev) and prev.endswith(";"):
        return True
    return False


MAX_QUOTE_CHARS = 20_000  # a closing guillemet farther than this is not looked for


class _Spans:
    """Sorted, non-overlapping spans with O(log n) overlap checks."""

    def __init__(self):
        self.starts: list[int] = []
        self.ends: list[int] = []

    def add(self, start: int, end: int) -> None:
        i = bisect.bisect_left(self.starts, start)
        self.starts.insert(i, start)
        self.ends.insert(i, end)

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect.bisect_right(self.starts, start)
        if i and self.ends[i - 1] > start:
            return True
        return i < len(self.starts) and self.starts[i] < end


def _match_guillemet(text: str, open_pos: int) -> int:
    """Index of the guillemet closing the one at open_pos (nesting aware), or -1."""
    depth = 0
    for j in range(open_pos, min(len(text), open_pos + MAX_QUOTE_CHARS)):
        c = text[j]
        if c == "«":
            depth += 1
        elif c == "»":
            depth -= 1
            if depth == 0:
                return j
    return -1


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


def find_quotes(text: str) -> list[QuoteSpan]:
    """Find direct quotes in ``text`` by the rules of the annotation guide.

    Returns spans sorted by start; ``text[q.start:q.end]`` is the quote content
    without dashes, guillemets, the comma before the closing dash or the tail.
    """
    if not text:
        return []
    lines: list[tuple[int, int]] = []
    pos = 0
    for part in text.split("\n"):
        lines.append((pos, pos + len(part)))
        pos += len(part) + 1
    out: list[QuoteSpan] = []
    covered = _Spans()

    def add(start, end, kind, tail_info, line_end):
        start, end = _trim_quote(text, start, end)
        if end - start < 2:
            return
        if tail_info is None:
            q = QuoteSpan(start, end, kind, "", -1, -1, "", "", -1)
        else:
            m, verb, tail, rest_start, stop = tail_info
            cue_start = m.start()
            q = QuoteSpan(start, end, _kind(text, tail) or kind, text[cue_start:stop].strip(),
                          cue_start, stop, verb, tail, rest_start)
        out.append(q)
        covered.add(start, end)

    # 1. dash paragraphs
    for li, (s, e) in enumerate(lines):
        m = _OPEN_DASH.match(text, s, e)
        if not m or _is_list_item(lines, text, li):
            continue
        qs = m.end()
        t, info = None, None
        for t in TAIL.finditer(text, qs, e):
            info = _tail_at(text, t.start(), e) if t.start() > qs else None
            if info:
                break
        if info is None:
            n = _NAME_TAIL.search(text, qs, e)
            if n:
                add(qs, n.start(), "dash", _tail_at(text, n.start(), e, _NAME_TAIL), e)
            else:
                add(qs, e, "dash", None, e)
            continue
        add(qs, t.start() + (0 if t.group("punct") in (None, ",") else 1), "dash", info, e)
        # the quotation resumes after the tail in the same paragraph: "– A, – деді X. – B."
        rest = info[4]
        r2 = _OPEN_DASH.match(text[rest:e].lstrip())
        if r2:
            off = rest + (len(text[rest:e]) - len(text[rest:e].lstrip())) + r2.end()
            t2 = TAIL.search(text, off, e)
            info2 = _tail_at(text, t2.start(), e) if t2 else None
            add(off, t2.start() if info2 else e, "dash", info2 or info, e)
    # 2. guillemet quotes attributed by a speech verb (may span paragraphs)
    i = 0
    while True:
        o = text.find("«", i)
        if o < 0:
            break
        c = _match_guillemet(text, o)
        if c < 0:
            i = o + 1
            continue
        line_end = text.find("\n", c)
        line_end = len(text) if line_end < 0 else line_end
        tail_info = _tail_at(text, c + 1, line_end)
        if tail_info is None and len(text[o + 1:c].split()) >= 5:
            tail_info = _tail_at(text, c + 1, line_end, _GUILLEMET_TAIL)
        line_start = text.rfind("\n", 0, o) + 1
        intro = _INTRO_VERB.search(text[max(line_start, o - 200):o])
        inside = covered.overlaps(o, o + 1)
        if (tail_info or intro) and not inside:
            add(o + 1, c, "guillemet", tail_info, line_end)
            i = c + 1
        else:
            i = o + 1
    # 3. a paragraph without an opening dash closed by "– деді ..."
    for s, e in lines:
        if _OPEN_DASH.match(text, s, e) or covered.overlaps(s, e):
            continue
        t = TAIL.search(text, s, e)
        pattern = TAIL
        if not t:
            t, pattern = _NAME_TAIL.search(text, s, e), _NAME_TAIL
        if not t or t.group("punct") not in (",", "!", "?", "…"):
            continue
        tail_info = _tail_at(text, t.start(), e, pattern)
        if tail_info is None or tail_info[4] < e - 1:  # the tail must close the paragraph
            continue
        add(s, t.start() + (0 if t.group("punct") == "," else 1), "dash", tail_info, e)
    out.sort(key=lambda q: q.start)
    return out
