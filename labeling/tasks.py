"""Corpus → Label Studio tasks, each pre-annotated by the shipped models (or the rule baseline)."""
from __future__ import annotations

from pathlib import Path

from kzclassify import Analysis, Analyzer, ModelError
from kzclassify._rules import rule_analysis
from kzclassify.corpus import Release, read_releases

from .io import atomic_write_json
from .ls_format import to_prediction

RULES_VERSION = "rules-3"


class Predictor:
    """Pre-annotations from the shipped models, or from the rule baseline when ``source="rules"`` or no
    model loads. ``model_version`` is one string for both push and the ML backend (from the manifests).
    ``persons``: the PERSON layer of the pre-annotations (``ls_format.PERSON_LAYERS``)."""

    def __init__(self, source: str = "model", analyzer: Analyzer | None = None, persons: str = "quotes"):
        self.persons = persons
        self.analyzer = None
        if source == "model":
            try:
                self.analyzer = (analyzer or Analyzer()).load()
            except ModelError:
                self.analyzer = None
        self.model_version = self.analyzer.model_version if self.analyzer else RULES_VERSION

    def analyze(self, text: str) -> Analysis:
        return self.analyzer.analyze(text) if self.analyzer else rule_analysis(text)

    def prediction(self, text: str) -> dict:
        """One Label Studio prediction of ``text`` (see ``ls_format.to_prediction``)."""
        return to_prediction(self.analyze(text), self.model_version, persons=self.persons)


def first_line(text: str, limit: int = 120) -> str:
    """The text's first non-empty line, cut at ``limit`` characters: what the Data Manager shows of a release."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= limit else line[:limit - 1].rstrip() + "…"


def make_task(release: Release, predictor: Predictor) -> dict:
    """One Label Studio task: data (text, uncertainty, review, the predicted type, the text's first line,
    release id, where it comes from) and one prediction.

    The prediction's score is its calibrated confidence (``ls_format.confidence``: the probability of its
    least certain part, the release type or a quote's speaker); ``uncertainty`` is 1 - score, so Label
    Studio's uncertainty sampling (lowest score first) and the Data Manager's ``uncertainty`` column
    agree. ``review`` holds the reasons a person should check it ("" when the review flag is off: see
    docs/scores.md), for a Data Manager column. ``source`` is the corpus file name and the release's
    position in it (no machine path).
    """
    pred = predictor.prediction(release.text)
    origin = f"{Path(release.source).name}#{release.index}" if release.source else ""
    predicted = next((r["value"]["choices"][0] for r in pred["result"] if r["type"] == "choices"), "")
    # the keys' order is the Data Manager's column order (labeling/screen.py): uncertainty, type, first line
    return {
        "data": {"text": release.text, "uncertainty": round(1.0 - pred["score"], 3), "review": pred.get("review", ""),
                 "type": predicted, "first_line": first_line(release.text), "release_id": release.id,
                 "source": origin},
        "predictions": [pred],
    }


def make_tasks(paths: list[str | Path], source: str = "model", fmt: str = "auto",
               persons: str = "quotes") -> list[dict]:
    """Tasks for every distinct release in ``paths`` (duplicates across files dropped); ``persons``: the
    PERSON layer of the pre-annotations ("quotes", the default, or "all")."""
    predictor = Predictor(source, persons=persons)
    seen: set[str] = set()
    tasks = []
    for p in paths:
        for r in read_releases(p, fmt):
            if r.id not in seen:
                seen.add(r.id)
                tasks.append(make_task(r, predictor))
    return tasks


def write_tasks(tasks: list[dict], out: str | Path) -> None:
    atomic_write_json(out, tasks)
