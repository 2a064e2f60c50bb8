"""The one text normalisation at the entrance, with offsets back to the caller's string.

The rules and models saw the corpus display text (:func:`kzclassify._text.display_text`):
one paragraph per line, lines joined by a single ``\\n``, no blank lines, one
ASCII space between words, no space at either end of a line. Callers send
whatever their source had: ``\\r\\n`` or ``\\r`` line ends (old Mac exports),
``\\u2028``/``\\u2029`` (web scrapes), ``\\x85``, ``\\v``, ``\\f``, trailing
spaces, blank lines between paragraphs, no-break and other Unicode spaces, a
byte-order mark. :func:`normalize` turns any of these into that shape in one
pass and keeps, for every character of the result, where it came from, so
that what is found in the normalised text is reported at the caller's offsets.

Rules, applied to every maximal run of whitespace (``str.isspace``; U+FEFF
counts as whitespace here):

* a run at the start or the end of the text is dropped;
* a run that contains a line break (any of ``str.splitlines``'s:
  ``\\n \\r \\v \\f \\x1c \\x1d \\x1e \\x85 \\u2028 \\u2029``) becomes one ``\\n``
  (so blank lines and the spaces around a break disappear);
* any other run becomes one space.

Every other character is kept as it is, except a lone surrogate (see
:func:`clean_surrogates`). Normalising the display text changes nothing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
_RUN = re.compile(r"[\s\ufeff]+")
_BREAK = re.compile(f"[{LINE_BREAKS}]")
_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"
SURROGATE_WARNING = "text contains lone surrogates (not valid Unicode); they were read as U+FFFD"


def clean_surrogates(text: str) -> tuple[str, bool]:
    """``(text with every surrogate code point replaced by U+FFFD, whether there was any)``.

    A Python ``str`` can hold surrogate code points (``'\\ud800'``, e.g. from
    ``bytes.decode(errors='surrogateescape')``) that are not Unicode text and
    cannot be encoded to UTF-8, which onnxruntime needs. kzclassify reads each
    one as U+FFFD REPLACEMENT CHARACTER: one code point for one, so offsets
    into the caller's string do not move, and results point at the caller's
    original characters. Callers add :data:`SURROGATE_WARNING` to the
    analysis warnings when the flag is true.
    """
    if text.isascii() or not _SURROGATE.search(text):
        return text, False
    return _SURROGATE.sub(REPLACEMENT, text), True


@dataclass(frozen=True, eq=False)  # eq would compare numpy arrays
class Normalized:
    """A normalised text and the way back to the caller's string.

    ``text`` is the normalised text; ``source_index[i]`` is the caller's offset
    of ``text[i]`` (for a separator, the first character of the whitespace run
    it stands for); ``source_len`` is the length of the caller's string.
    """

    text: str
    source_index: np.ndarray
    source_len: int
    had_surrogates: bool = False

    def source_offset(self, i: int) -> int:
        """The caller's offset of normalised offset ``i`` (``len(text)`` maps to ``source_len``)."""
        return int(self.source_index[i]) if i < len(self.text) else self.source_len

    def to_caller(self, start: int, end: int) -> tuple[int, int]:
        """The caller's span of normalised ``text[start:end]``: from its first character to just
        after its last one, so ``caller[s:e]`` holds the same non-space characters."""
        s = self.source_offset(start)
        return (s, s) if end <= start else (s, int(self.source_index[end - 1]) + 1)


_WS_CODES = np.array([c for c in range(0x3001) if chr(c).isspace()] + [0xFEFF], dtype=np.uint32)
_BREAK_CODES = np.array([ord(c) for c in LINE_BREAKS], dtype=np.uint32)


# a character normalize would change wherever it is: whitespace other than a space or a newline, a BOM, a
# lone surrogate (one character class: a single fast scan)
_ODD_CHAR = re.compile("[" + "".join(re.escape(chr(c)) for c in _WS_CODES.tolist() if chr(c) not in " \n")
                       + "\ud800-\udfff]")


def _is_normal(text: str) -> bool:
    """Nothing for normalize to change: no odd character, no two separators in a row, none at either end."""
    return not (_ODD_CHAR.search(text) or "  " in text or " \n" in text or "\n " in text or "\n\n" in text
                or text[:1].isspace() or text[-1:].isspace())


def normalize(text: str) -> Normalized:
    """Normalise ``text`` (rules in the module docstring); O(len(text)), vectorised.

    Lone surrogates are replaced first (:func:`clean_surrogates`), which
    ``had_surrogates`` records.
    """
    if _is_normal(text):  # already normal (every corpus release is): identity map
        return Normalized(text, np.arange(len(text), dtype=np.int64), len(text), False)
    text, had = clean_surrogates(text)
    cp = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
    n = len(cp)
    ws = np.isin(cp, _WS_CODES)
    solid = np.flatnonzero(~ws)
    if not len(solid):
        return Normalized("", np.zeros(0, dtype=np.int64), n, had)
    first, last = solid[0], solid[-1]
    prev_ws = np.concatenate(([False], ws[:-1]))
    next_ws = np.concatenate((ws[1:], [False]))
    run_s = np.flatnonzero(ws & ~prev_ws)
    run_e = np.flatnonzero(ws & ~next_ws) + 1
    inner = (run_s > first) & (run_e <= last)
    run_s, run_e = run_s[inner], run_e[inner]
    breaks = np.concatenate(([0], np.cumsum(np.isin(cp, _BREAK_CODES))))
    sep = np.where(breaks[run_e] > breaks[run_s], 10, 32).astype("<u4")
    keep = ~ws
    keep[run_s] = True
    index = np.flatnonzero(keep)
    chars = cp[index]
    chars[ws[index]] = sep
    same = len(index) == n and np.array_equal(chars, cp)
    out = text if same else chars.tobytes().decode("utf-32-le")
    return Normalized(out, index, n, had)


def in_caller_text(text: str, attribute: Callable[[str], tuple], norm: Normalized | None = None) -> tuple[list, tuple]:
    """Quotes and people of the caller's ``text``: found by ``attribute`` (text → (quotes, people)) on
    the normalised text, reported at the caller's offsets.

    ``Quote.text == text[q.start:q.end]``, ``Quote.speaker_mention == text[q.mention_start:q.mention_end]``
    and each person mention ``(s, e, t)`` has ``t == text[s:e]`` for the caller's own string (a quote
    spanning paragraphs then holds the caller's own line breaks and spaces); ``cue``, ``speaker`` and a
    person's ``name`` stay in normalised form. ``norm`` is ``normalize(text)`` when the caller has it.
    """
    norm = norm or normalize(text)
    if not norm.text:
        return [], ()
    quotes, people = attribute(norm.text)
    out = []
    for q in quotes:
        s, e = norm.to_caller(q.start, q.end)
        ms, me = norm.to_caller(q.mention_start, q.mention_end) if q.mention_start >= 0 else (-1, -1)
        out.append(replace(q, text=text[s:e], start=s, end=e, mention_start=ms, mention_end=me,
                           speaker_mention=text[ms:me] if ms >= 0 else q.speaker_mention))
    mapped = []
    for p in people:
        spans = [norm.to_caller(s, e) for s, e, _ in p.mentions]
        mapped.append(replace(p, mentions=tuple((s, e, text[s:e]) for s, e in spans)))
    return out, tuple(mapped)
