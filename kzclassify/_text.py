"""Text normalisation shared by inference, labeling and training.

Train/serve parity depends on these functions existing exactly once.
"""
from __future__ import annotations

import hashlib
import re

import numpy as np

from ._morphology import KAZAKH_SPECIFIC
from ._normalize import normalize

_WS = re.compile(r"\s+")


def fold_whitespace(text: str) -> str:
    """Collapse every run of whitespace to one space and strip the ends.

    This is the identity of a release: two texts that differ only in
    whitespace are the same release.
    """
    return _WS.sub(" ", text).strip()


def display_text(text: str) -> str:
    """Canonical display text: one paragraph per line, spaces inside lines folded, no empty lines,
    every kind of line break a ``\n`` (``kzclassify._normalize``, the one normaliser). Annotation
    offsets refer to this string."""
    return normalize(text).text


def release_id(text: str) -> str:
    """Stable release id: first 12 hex digits of sha1 of the folded text."""
    return hashlib.sha1(fold_whitespace(text).encode("utf-8")).hexdigest()[:12]


_PROFILE_CHARS = 3_000  # the script of a release is clear from its beginning
_IS_LETTER = np.array([chr(c).isalnum() and not chr(c).isdecimal() for c in range(0x3000)])


def script_profile(text: str) -> tuple[float, float]:
    """Return (share of letters that are Cyrillic, share that are Kazakh-specific).

    A letter is what the regex ``[^\\W\\d_]`` matches (alphanumeric, not a decimal digit): looked up in a
    table by code point below U+3000, asked of ``str`` above; no pass per character in Python.
    """
    head = text[:_PROFILE_CHARS]
    cp = np.frombuffer(head.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    low = cp < len(_IS_LETTER)
    n = int(np.count_nonzero(_IS_LETTER[cp[low]]))
    if not low.all():
        n += sum(1 for c in cp[~low].tolist() if chr(c).isalnum() and not chr(c).isdecimal())
    if not n:
        return 0.0, 0.0
    cyrillic = int(np.count_nonzero((cp >= 0x400) & (cp <= 0x4FF)))
    return cyrillic / n, sum(head.count(c) for c in KAZAKH_SPECIFIC) / n


def looks_kazakh(text: str) -> bool:
    """Heuristic: mostly Cyrillic letters with Kazakh-specific letters present.

    Russian text is Cyrillic but lacks ә, ғ, қ, ң, ө, ұ, ү, һ, і almost
    entirely; Kazakh prose has them in roughly 5-10 % of letters.
    """
    cyr, kaz = script_profile(text)
    return cyr >= 0.5 and kaz >= 0.01
