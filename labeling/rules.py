"""Transparent rules used for pre-annotation and as the baseline in evaluation.

Release type: keyword cues of ANNOTATION_GUIDE.md section 1, looked for in the
lead (first paragraph), tried in the guide's tie-break order.
Quotes: the rule quote finder and speaker resolver of ``kzclassify``.
"""
from __future__ import annotations

import re

from kzclassify._features import type_cues
from kzclassify._quotes import find_quotes
from kzclassify._speakers import resolve

# Cue lists live in kzclassify/data/type_cues.json (also lead features of the model).
TYPE_CUES = type_cues()


def lead(text: str) -> str:
    """The first paragraph of a release (titles are stripped, so this is the lead)."""
    return text.strip().split("\n", 1)[0]


def rule_type(text: str) -> tuple[str, str]:
    """(label, matched cue) from the lead; ("other", "") when nothing matches."""
    first = lead(text)
    low = first.lower()
    for label, cues in TYPE_CUES:
        for cue in cues:
            if cue.lower() in low:
                return label, cue
    return "other", ""


def rule_quotes(text: str) -> list[dict]:
    """Rule quotes with speaker mention and canonical speaker, offsets into ``text``."""
    out = []
    for q in find_quotes(text):
        res = resolve(q.tail, text, q.start)
        mention, m_start = q.tail, q.tail_start
        if mention and m_start >= 0:
            m_start = text.find(mention, m_start)
        out.append({
            "start": q.start, "end": q.end, "text": text[q.start:q.end], "kind": q.kind, "cue": q.cue,
            "speaker_mention": mention if m_start >= 0 else "",
            "mention_start": m_start if mention else -1,
            "mention_end": m_start + len(mention) if mention and m_start >= 0 else -1,
            "speaker": res.speaker, "how": res.how, "score": res.score,
        })
    return out
