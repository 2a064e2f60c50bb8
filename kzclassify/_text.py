"""Text normalisation shared by inference, labeling and training.

Train/serve parity depends on these functions existing exactly once.
"""
from __future__ import annotations

import hashlib
import re

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


# the complements: what is left after removing them is the letters / Cyrillic / Kazakh-specific letters
# (one C pass each, no list of one-character matches)
_NOT_CYRILLIC = re.compile(r"[^\u0400-\u04FF]+")
_NOT_KAZAKH_SPECIFIC = re.compile(f"[^{KAZAKH_SPECIFIC}]+")
_NOT_LETTER = re.compile(r"[\W\d_]+")
_PROFILE_CHARS = 3_000  # the script of a release is clear from its beginning


def script_profile(text: str) -> tuple[float, float]:
    """Return (share of letters that are Cyrillic, share that are Kazakh-specific)."""
    head = text[:_PROFILE_CHARS]
    n = len(_NOT_LETTER.sub("", head))
    if not n:
        return 0.0, 0.0
    return len(_NOT_CYRILLIC.sub("", head)) / n, len(_NOT_KAZAKH_SPECIFIC.sub("", head)) / n


def looks_kazakh(text: str) -> bool:
    """Heuristic: mostly Cyrillic letters with Kazakh-specific letters present.

    Russian text is Cyrillic but lacks ә, ғ, қ, ң, ө, ұ, ү, һ, і almost
    entirely; Kazakh prose has them in roughly 5-10 % of letters.
    """
    cyr, kaz = script_profile(text)
    return cyr >= 0.5 and kaz >= 0.01
