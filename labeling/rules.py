"""Rule quotes for pre-annotation (the release-type rule is ``kzclassify._rules``)."""
from __future__ import annotations

from kzclassify._quotes import find_quotes
from kzclassify._speakers import resolve


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
