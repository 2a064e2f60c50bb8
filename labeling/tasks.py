"""Corpus → Label Studio tasks with pre-annotations."""
from __future__ import annotations

import json
from pathlib import Path

from kzclassify.corpus import Release, read_releases

from kzclassify._rules import rule_type

from . import rules
from .ls_format import QuoteAnn, ReleaseAnn, to_results

RULES_VERSION = "rules-2"


def rule_prediction(text: str) -> tuple[ReleaseAnn, float, str]:
    """Pre-annotation from the transparent rules: (annotation, score, model_version)."""
    label, cue = rule_type(text)
    quotes = []
    for q in rules.rule_quotes(text):
        if q["mention_start"] < 0:
            continue  # no mention found: leave the quote to the annotator rather than guess
        quotes.append(QuoteAnn(q["start"], q["end"], q["text"], q["mention_start"], q["mention_end"],
                               q["speaker_mention"], q["speaker"]))
    # the score is a fixed prior: a matched lead cue is right more often than a default
    return ReleaseAnn(label, tuple(quotes)), (0.6 if cue else 0.2), RULES_VERSION


def model_prediction(text: str) -> tuple[ReleaseAnn, float, str, float] | None:
    """Pre-annotation from the shipped kzclassify models: (annotation, score, model_version, type margin),
    or None when none is usable."""
    try:
        import kzclassify
        info = kzclassify.info()
        a = kzclassify.analyze(text)
    except Exception:  # no shipped model yet, or it fails to load: fall back to rules
        return None
    quotes = tuple(
        QuoteAnn(q.start, q.end, q.text, q.mention_start, q.mention_end, q.speaker_mention, q.speaker)
        for q in a.quotes if q.mention_start >= 0
    )
    version = f"kzclassify-{info['version']}"
    return ReleaseAnn(a.release_type.label, quotes), a.release_type.score, version, a.release_type.margin


def make_task(release: Release, source: str = "model") -> dict:
    """One Label Studio task: data (text, release id, where it comes from, uncertainty) and one prediction.

    ``uncertainty`` is 1 - margin, the margin being the gap between the two
    best release-type probabilities: 0 = the model is sure, 1 = a coin flip
    between two types. Rule pre-annotations have no probabilities: 1 - their
    fixed prior. The prediction's ``score`` is 1 - uncertainty, so Label
    Studio's uncertainty sampling (lowest score first) follows the same order. ``source`` is the corpus file name and the release's position
    in it (no machine path).
    """
    pred = model_prediction(release.text) if source == "model" else None
    ann, score, version, *margin = pred or rule_prediction(release.text)
    uncertainty = 1.0 - float(margin[0] if margin else score)
    origin = f"{Path(release.source).name}#{release.index}" if release.source else ""
    return {
        "data": {"text": release.text, "release_id": release.id, "source": origin,
                 "uncertainty": round(uncertainty, 3)},
        "predictions": [{"model_version": version, "score": round(1.0 - uncertainty, 4),
                         "result": to_results(ann, origin="prediction")}],
    }


def make_tasks(paths: list[str | Path], source: str = "model", fmt: str = "auto") -> list[dict]:
    """Tasks for every distinct release in ``paths`` (duplicates across files dropped)."""
    seen: set[str] = set()
    tasks = []
    for p in paths:
        for r in read_releases(p, fmt):
            if r.id in seen:
                continue
            seen.add(r.id)
            tasks.append(make_task(r, source))
    return tasks


def write_tasks(tasks: list[dict], out: str | Path) -> None:
    from .io import atomic_write_json
    atomic_write_json(out, tasks)
