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

from ._doc import Doc
from ._morphology import LEAD_SENTENCE_END, word_list
from ._text import display_text

_TOKEN = re.compile(r"\w{2,}")
_NONWORD = re.compile(r"\W")
LEAD_PREFIX = "l_"
BODY_CHARS = 800


DATELINE_CHARS = 40


def lead_and_body(text: "str | Doc") -> tuple[str, str]:
    """Split a release into its lead (first paragraph) and the rest.

    A short first line that is not a sentence or an address ("Алматы қаласы",
    "Маңғыстау облысы, Ақтау қаласы") is a dateline: the lead is that line
    joined with the next paragraph.
    """
    shown = text.text if isinstance(text, Doc) else display_text(text)  # a Doc's text is displayed already
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


OPEN_WORDS = 3
PRED_WORDS = 3


def lead_sentences(lead: str) -> list[str]:
    """The lead's sentences (a dot followed by a space and a word: initials like ``Н.Әбіқаев`` stay)."""
    return [s for s in LEAD_SENTENCE_END.split(lead) if s.strip()]


def _first_sentence(sents: list[str]) -> int:
    """Index of the lead's first sentence that has a predicate (skips a short dateline such as ``Алматы қ.``)."""
    for i, s in enumerate(sents):
        if len(_TOKEN.findall(s)) > 3:
            return i
    return 0


def _hits(text: str) -> list[str]:
    """Labels (guide order, each once) whose cues occur in ``text`` (literal cues: ``str`` search, which on
    the corpus is twice as fast as one regex alternation per label)."""
    return [label for label, cues in type_cues() if any(c in text for c in cues)]


# "<event> барысында / қорытындысы / аясында ...": the event the text names as its frame or setting
FRAME_MARKERS = word_list("frame_markers")
_FRAME = re.compile(r"\b\w{3,}[\s-]+(?:" + "|".join(FRAME_MARKERS) + ")")  # frame phrases, for removal
_WORD_BEFORE = re.compile(r"(\w{3,})[\s-]+$")
_WORDCHAR = re.compile(r"\w")
FRAME_STEM = 6
FRAME_WINDOW = 40


def _frames(text: str) -> list[str]:
    """``<stem of the word before>_<marker>`` for each frame marker in ``text``, in text order.

    The markers are found with ``str.find`` and the word before each is read from a short window,
    which keeps this linear and cheap on long texts.
    """
    found = []
    for m in FRAME_MARKERS:
        i = text.find(m)
        while i >= 0:
            w = _WORD_BEFORE.search(text, max(0, i - FRAME_WINDOW), i)
            if w and (w.start() == 0 or not _WORDCHAR.match(text, w.start() - 1)):
                found.append((i, f"{w.group(1)[:FRAME_STEM]}_{m}"))
            i = text.find(m, i + len(m))
    return [t for _, t in sorted(found)]
BODY_PARAS = 8
LAST_CHARS = 400


def _para_openings(body: str) -> list[str]:
    """The first word of each of the body's first ``BODY_PARAS`` paragraphs."""
    out = []
    for p in body.split("\n", BODY_PARAS)[:BODY_PARAS]:
        w = _TOKEN.findall(p[:60])
        if w:
            out.append(w[0])
    return out


def lead_tokens(lead: str, body: str) -> str:
    """Structure tokens read off the (lowercased) lead, the way an annotator reads a stripped release.

    ``op_``: the opening words (``Кездесуде…``, ``Жиында…``, ``Сапар барысында…``) and the first word's stem;
    ``pr_``: the first sentence's closing predicate (Kazakh is verb-final: ``кездесті``, ``телефон арқылы
    сөйлесті``), ``ps_`` the closing word of each later lead sentence; ``ko_/kp_/k1_/kb_<label>``: which of
    the guide's cue classes fire in the opening words, in the predicate, in the first sentence, in the body;
    ``bo_`` the opening word of the body's paragraphs, ``fr_`` the events the text names as its setting
    (``кездесу барысында``); ``lo_``/``kl_<label>``: the last paragraph's opening word and cue classes (where a
    release often says what it was: ``Телефон арқылы сөйлесуге … бастамашы болды``, ``Кездесу соңында``);
    ``top_<label>``: the guide's precedence applied to the lead's cues (the rule decision), ``top_none`` if none;
    ``ev_<label>``: the event the lead reports, not the frame (see ``_event_label``).
    """
    sents = lead_sentences(lead)
    i = _first_sentence(sents)
    first = sents[i] if sents else ""
    words = _TOKEN.findall(first)
    out = []
    if words:
        op = words[:OPEN_WORDS]
        out += [f"op_{op[0]}", f"op_{'_'.join(op[:2])}", f"os_{op[0][:5]}"]
        pr = words[-PRED_WORDS:]
        out += [f"pr_{pr[-1]}", f"pr_{'_'.join(pr[-2:])}", f"prs_{pr[-1][:5]}"]
        out += [f"ko_{l}" for l in _hits(" ".join(op))]
        out += [f"kp_{l}" for l in _hits(" ".join(pr))]
        out += [f"k1_{l}" for l in _hits(first)]
    for s in sents[i + 1:]:
        w = _TOKEN.findall(s)
        if w:
            out.append(f"ps_{w[-1]}")
    out += [f"kb_{l}" for l in _hits(body[:BODY_CHARS])]
    out += [f"bo_{w}" for w in _para_openings(body)]
    last = body[body.rfind("\n") + 1:][:LAST_CHARS] if body.strip() else ""
    out += [f"lo_{w}" for w in _TOKEN.findall(last[:60])[:1]] + [f"kl_{l}" for l in _hits(last)]
    out += [f"fr_{t}" for t in _frames(lead + " " + body)]
    top = _hits(lead)
    out.append(f"top_{top[0] if top else 'none'}")
    out.append(f"ev_{_event_label(first, words)}")
    return " ".join(out)


def _event_label(first: str, words: list[str]) -> str:
    """The guide's reading of the lead: "label the event the lead reports, not the frame around it".

    The cue class of the closing predicate if it has one; else the guide's precedence over the first
    sentence's cues once its frame phrases (``жұмыс сапары барысында``, ``форум аясында``) are removed;
    ``none`` when no cue is left.
    """
    pred = _hits(" ".join(words[-PRED_WORDS:]))
    if pred:
        return pred[0]
    core = _hits(_FRAME.sub(" ", first))
    return core[0] if core else "none"


def type_input(text: "str | Doc", structure: bool = True) -> str:
    """The string the release-type model reads.

    The guide's cues found in the lead become ``kw_`` tokens and the lead's
    structure (opening words, closing predicate, where each cue class fires,
    the guide's precedence, the events the text names as its setting) becomes
    the tokens of ``lead_tokens``; lead words are repeated with a ``l_`` prefix
    so the model can weigh the lead (which carries the event, titles being
    stripped) apart from the body; the body is cut to its first ``BODY_CHARS``
    characters. ``structure=False`` gives the earlier input without
    ``lead_tokens`` (kept as a baseline in training).
    """
    lead, body = lead_and_body(text)
    lead = lead.lower()
    body = body.lower()
    tagged = " ".join(LEAD_PREFIX + w for w in _TOKEN.findall(lead))
    struct = lead_tokens(lead, body) if structure else ""
    return " ".join(f"{cue_tokens(lead)} {struct} {tagged} {lead} {body[:BODY_CHARS]}".split())


def transformer_input(text: str, max_chars: int = 3000) -> str:
    """What a transformer release-type model reads: lead, then body, display-normalised."""
    lead, body = lead_and_body(text)
    return f"{lead}\n{body}"[:max_chars]
