"""Model input preparation shared by training and inference (train/serve parity).

The release-type model is an ONNX graph whose input is one string per
release: the string made here. Lowercasing happens here, in Python, because
ONNX's string normaliser lowercases only ASCII unless given a locale.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources

from ._text import display_text

_TOKEN = re.compile(r"\w{2,}")
_NONWORD = re.compile(r"\W")
LEAD_PREFIX = "l_"
BODY_CHARS = 800


DATELINE_CHARS = 40


def lead_and_body(text: str) -> tuple[str, str]:
    """Split a release into its lead (first paragraph) and the rest.

    A short first line that is not a sentence or an address ("Алматы қаласы",
    "Маңғыстау облысы, Ақтау қаласы") is a dateline: the lead is that line
    joined with the next paragraph.
    """
    shown = display_text(text)
    lead, _, body = shown.partition("\n")
    if (len(lead) < DATELINE_CHARS and not lead.endswith(("!", ":")) and body
            and (not lead.endswith(".") or len(lead.split()) <= 3)):
        nxt, _, body = body.partition("\n")
        lead = f"{lead} {nxt}"
    return lead, body


@lru_cache(maxsize=1)
def type_cues() -> list[tuple[str, tuple[str, ...]]]:
    """(label, lowercase cues) in the guide's tie-break order, from data/type_cues.json."""
    with resources.files("kzclassify").joinpath("data/type_cues.json").open(encoding="utf-8") as f:
        data = json.load(f)
    return [(label, tuple(c.lower() for c in cues)) for label, cues in data["cues"]]


def cue_tokens(lead: str) -> str:
    """Tokens naming the guide's cues found in a (lowercased) lead: ``kw_<label>`` per hit."""
    out = []
    for label, cues in type_cues():
        for cue in cues:
            if cue in lead:
                out.append(f"kw_{label}_{_NONWORD.sub('', cue)} kw_{label}")
    return " ".join(out)


def type_input(text: str) -> str:
    """The string the release-type model reads.

    The guide's cues found in the lead become ``kw_`` tokens; lead words are
    repeated with a ``l_`` prefix so the model can weigh the lead (which carries
    the event, titles being stripped) apart from the body; the body is cut to
    its first ``BODY_CHARS`` characters.
    """
    lead, body = lead_and_body(text)
    lead = lead.lower()
    tagged = " ".join(LEAD_PREFIX + w for w in _TOKEN.findall(lead))
    return " ".join(f"{cue_tokens(lead)} {tagged} {lead} {body[:BODY_CHARS].lower()}".split())


def transformer_input(text: str, max_chars: int = 3000) -> str:
    """What a transformer release-type model reads: lead, then body, display-normalised."""
    lead, body = lead_and_body(text)
    return f"{lead}\n{body}"[:max_chars]
