"""The transparent rule baseline: used for pre-annotation when no model is shipped, and as the
baseline row in every evaluation (release type and quotes), so both mean the same thing.

Release type: the guide's cues (``data/type_cues.json``) looked for in the lead (dateline-aware, as the
model reads it), tried in the guide's tie-break order. Quotes: the rule quote finder with the rule
scorer (tail mention, else the nearest mention before) and the canonical-speaker rules.
"""
from __future__ import annotations

from ._attribution import attribute_people, rule_scorer
from ._features import lead_and_body, type_cues
from ._types import Analysis, ReleaseType


def rule_type(text: str) -> tuple[str, str]:
    """(label, matched cue) from the lead; ("other", "") when no cue matches."""
    low = lead_and_body(text)[0].lower()
    for label, cues in type_cues():
        for cue in cues:
            if cue in low:
                return label, cue
    return "other", ""


def rule_analysis(text: str) -> Analysis:
    """The rule baseline's whole analysis: release type by cues (probability 0.6 when a cue matched,
    a fixed prior; 0.2 otherwise) and quotes attributed by ``rule_scorer``."""
    label, cue = rule_type(text)
    labels = [lb for lb, _ in type_cues()]
    p = 0.6 if cue else 0.2
    scores = {lb: p if lb == label else (1.0 - p) / (len(labels) - 1) for lb in labels}
    quotes, people = attribute_people(text, rule_scorer) if text.strip() else ([], ())
    return Analysis(ReleaseType.from_scores(scores), tuple(quotes), (), people)
