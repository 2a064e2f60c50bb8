"""One document per text: what every stage asks of a release, computed once.

:class:`Doc` is built once at the entrance, on the normalised text
(:func:`kzclassify._normalize.normalize`), and handed to every stage: quote
detection, the people of the release, attribution and the release-type input.
Each property is computed on first use and kept, by one whole-text scan at
most; the stages then look positions up with ``bisect`` instead of splitting
sentences or scanning the text again with their own pattern.

What it holds (offsets index ``Doc.text``):

* paragraphs: the newline offsets (``newlines``), ``line_start``/``line_end``/``paragraph_of``;
* tokens: every whitespace-separated word with its offsets (``word_starts``/``word_ends``,
  ``words_in``, ``next_word``, ``n_words``) and the set of capitalised tokens (``cap_tokens``);
* sentences: the sentence marks ``.!?`` (``marks``), the breaks after them (``breaks``,
  ``sentence_starts``) and the last sentence boundary before a position (``last_stop_before``);
* quotation: the text with other double quotation marks read as guillemets (``quoted``), the
  guillemet pairs, the dash paragraphs (``dash_openings``), where a speech verb follows a dash or a
  closing guillemet and where a colon opens a guillemet (``dash_verbs``, ``closes_before_verb``,
  ``colon_opens``);
* names: the capitalised runs and the president's titles (``name_runs``).

The patterns with Kazakh words in them come from :mod:`kzclassify._morphology`.
"""
from __future__ import annotations

import bisect
from functools import cached_property

import numpy as np

from ._morphology import (CLOSE_THEN_VERB, COLON_OPEN, DASH_VERB, MENTION, NAME_TAIL_LINES, OPEN_DASH,
                          OTHER_QUOTES, SENTENCE_BREAK, SENTENCE_MARK, CAP_TOKEN, WORD)

MAX_QUOTE_CHARS = 20_000  # a closing guillemet farther than this is not looked for
_SHORT = 400  # a range up to which counting its words by str.split is cheaper than the index
# what \s matches, as a lookup table by code point (no whitespace above U+3000; the last entry stands for them)
_IS_SPACE = np.array([chr(c).isspace() for c in range(0x3001)] + [False])
_OPENS_AFTER = frozenset(" \t\n\u00a0([{:«–—-\u201e")


def as_guillemets(text: str) -> str:
    """``text`` with other double quotation marks written as « and » (same length, so offsets hold).

    A mark opens when it starts the text or follows a space, an opening bracket, a colon, a dash or an
    opening mark ("„" always opens); otherwise it closes. The annotators read a straight-quoted letter
    ("…: "Армения Республикасы мен …", – деп жазған.") as a quote, like one in guillemets. Linear: one
    scan for the marks, and the text is copied only when it has any.
    """
    marks = [m.start() for m in OTHER_QUOTES.finditer(text)]
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


class Doc:
    """A normalised text and what the stages ask of it (see the module docstring).

    ``Doc(text)`` computes nothing yet; ``Doc.of(x)`` returns ``x`` itself when it is a Doc already,
    so a stage called on its own with a string builds one and a pipeline passes one along.
    """

    def __init__(self, text: str):
        self.text = text
        self.n = len(text)

    @classmethod
    def of(cls, text: "str | Doc") -> "Doc":
        return text if isinstance(text, Doc) else cls(text)

    # paragraphs --------------------------------------------------------------------------------

    @cached_property
    def quoted(self) -> str:
        """The text with other double quotation marks as guillemets (``as_guillemets``): same offsets."""
        return as_guillemets(self.text)

    @cached_property
    def code_points(self) -> np.ndarray:
        """The code points of ``quoted`` (surrogatepass: a lone surrogate is one code point like any other)."""
        return np.frombuffer(self.quoted.encode("utf-32-le", "surrogatepass"), dtype="<u4")

    @cached_property
    def newlines(self) -> list[int]:
        return np.flatnonzero(self.code_points == 10).tolist()

    def paragraph_of(self, pos: int) -> int:
        """Index of the paragraph holding ``pos`` (the number of newlines before it)."""
        return bisect.bisect_left(self.newlines, pos)

    def paragraph(self, i: int) -> tuple[int, int]:
        nl = self.newlines
        return (nl[i - 1] + 1 if i else 0), (nl[i] if i < len(nl) else self.n)

    def line_end(self, pos: int) -> int:
        nl = self.newlines
        i = bisect.bisect_left(nl, pos)
        return nl[i] if i < len(nl) else self.n

    def line_start(self, pos: int) -> int:
        i = bisect.bisect_left(self.newlines, pos)
        return self.newlines[i - 1] + 1 if i else 0

    def lines_with(self, hits: list[int]) -> list[int]:
        """Indices of the paragraphs holding these offsets, sorted, each once."""
        if not hits:
            return []
        return np.unique(np.searchsorted(np.asarray(self.newlines, dtype=np.int64), hits)).tolist()

    # tokens ------------------------------------------------------------------------------------

    @cached_property
    def _words(self) -> tuple[list[int], list[int]]:
        """Starts and ends of the maximal runs of non-space characters (``\\S+``), from the code points."""
        space = _IS_SPACE[np.minimum(self.code_points, len(_IS_SPACE) - 1)]
        edges = np.flatnonzero(np.diff(np.concatenate(([True], space, [True])).view(np.int8)))
        return edges[0::2].tolist(), edges[1::2].tolist()

    @property
    def word_starts(self) -> list[int]:
        return self._words[0]

    @property
    def word_ends(self) -> list[int]:
        return self._words[1]

    def words_in(self, a: int, b: int) -> list[tuple[int, int, str]]:
        """The words of ``text[a:b]`` as ``(start, end, word)``, a word cut at either end cut there too
        (what ``re.finditer(r"\\S+", text[a:b])`` gives, at offsets into the text)."""
        starts, ends = self._words
        i = bisect.bisect_right(ends, a)
        out: list[tuple[int, int, str]] = []
        if b <= a:
            return out
        text = self.text
        while i < len(starts) and starts[i] < b:
            s, e = max(starts[i], a), min(ends[i], b)
            out.append((s, e, text[s:e]))
            i += 1
        return out

    def has_word_in(self, a: int, b: int) -> bool:
        """Whether ``text[a:b]`` holds anything but whitespace (bisect: no slice of a long range)."""
        starts, ends = self._words
        k = bisect.bisect_right(ends, a)
        return b > a and k < len(starts) and starts[k] < b

    def next_word(self, pos: int) -> str | None:
        """The word after the whitespace at ``pos`` (``re.match(r"\\s+(\\S+)", text, pos)``), None if
        ``pos`` is not whitespace or nothing follows."""
        text, n = self.text, self.n
        if pos >= n or not text[pos].isspace():
            return None
        pos += 1
        while pos < n and text[pos].isspace():  # a normalised text has one space between words: no loop
            pos += 1
        m = WORD.match(text, pos)
        return m.group() if m else None

    def n_words(self, a: int, b: int) -> int:
        """len(text[a:b].split()) without slicing long ranges."""
        if b - a <= _SHORT:
            return len(self.text[a:b].split())
        w = self._words[0]
        return (bisect.bisect_left(w, b) - bisect.bisect_right(w, a)) + (not self.text[a].isspace())

    @cached_property
    def cap_tokens(self) -> frozenset[str]:
        """Every capitalised word of the text (name stems are looked up among them)."""
        return frozenset(CAP_TOKEN.findall(self.text))

    # sentences ---------------------------------------------------------------------------------

    @cached_property
    def marks(self) -> list[int]:
        """Offsets of the sentence marks (``.``, ``!``, ``?``)."""
        return [m.start() for m in SENTENCE_MARK.finditer(self.text)]

    @cached_property
    def breaks(self) -> list[int]:
        """Offsets where a run of whitespace after a sentence mark starts."""
        t, n = self.text, self.n
        return [p + 1 for p in self.marks if p + 1 < n and t[p + 1].isspace()]

    @cached_property
    def sentence_starts(self) -> list[int]:
        """Offsets where a sentence starts: after a mark and the whitespace after it, after a newline."""
        return sorted({m.end() for p in self.breaks for m in (SENTENCE_BREAK.match(self.text, p),)}
                      | {i + 1 for i in self.newlines})

    def breaks_between(self, a: int, b: int) -> int:
        """How many sentence breaks ``text[a:b]`` holds (a mark inside it, then whitespace)."""
        br = self.breaks
        return max(0, bisect.bisect_left(br, b) - bisect.bisect_right(br, a))

    @cached_property
    def _stops(self) -> list[int]:
        return sorted(self.marks + self.newlines)

    def last_stop_before(self, pos: int) -> int:
        """The last offset before ``pos`` holding a sentence mark or a newline, -1 if none."""
        k = bisect.bisect_left(self._stops, pos)
        return self._stops[k - 1] if k else -1

    def marks_in(self, a: int, b: int) -> list[int]:
        m = self.marks
        return m[bisect.bisect_left(m, a):bisect.bisect_left(m, b)]

    # quotation ---------------------------------------------------------------------------------

    @cached_property
    def dash_openings(self) -> list[tuple[int, int]]:
        """(start, end) of the dash and spaces that open a paragraph ("– Біз …")."""
        return [m.span() for m in OPEN_DASH.finditer(self.quoted)]

    @cached_property
    def closes_before_verb(self) -> list[int]:
        """Closing guillemets followed by a speech verb (with punctuation or a dash between)."""
        return [m.start() for m in CLOSE_THEN_VERB.finditer(self.quoted)]

    @cached_property
    def colon_opens(self) -> list[int]:
        """Opening guillemets after a colon ("деді: «…»")."""
        return [m.end() - 1 for m in COLON_OPEN.finditer(self.quoted)]

    @cached_property
    def dash_verb_lines(self) -> list[int]:
        """Paragraphs with a dash and a speech verb or a dash and a name closing them."""
        q = self.quoted
        return self.lines_with([m.start() for p in (DASH_VERB, NAME_TAIL_LINES) for m in p.finditer(q)])

    def guillemet_pairs(self, closes=(), opens=()) -> list[tuple[int, int]]:
        """(open, close) of every « with its nesting-aware closing » less than MAX_QUOTE_CHARS away,
        sorted by open; only the pairs whose close is in ``closes`` or open in ``opens``.

        A » with no open « before it is ignored; the depth after each
        guillemet is the running sum reflected at zero, and at each depth the
        opens and closes alternate, so a stable sort by depth pairs them.
        """
        if not (len(closes) or len(opens)):
            return []
        cp = self.code_points
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

    # names -------------------------------------------------------------------------------------

    @cached_property
    def name_runs(self) -> list[tuple[int, int, str, str]]:
        """(start, end, kind, run) of every capitalised run and president's title, in text order; kind is
        "first_president", "president", "role" (a fixed office) or "name" (a run of capitalised words)."""
        kinds = _RUN_KINDS  # the pattern's alternatives are its named groups, none nested: lastgroup is the one
        return [(m.start(), m.end(), kinds[m.lastgroup], m.group()) for m in MENTION.finditer(self.text)]


_RUN_KINDS = {"first": "first_president", "pres": "president", "role": "role", "name": "name"}
