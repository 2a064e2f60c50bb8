"""The analyzer: loaded models → release type and quotes of a text; module functions use a default one."""
from __future__ import annotations

import datetime as _dt
import re
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np

from ._attribution import FEATURES, attribute_people
from ._doc import Doc
from ._calibration import (DEFAULT_TARGETS, Calibration, calibrate_quote_score, calibrate_type_scores,
                           read_calibration, review_analysis, review_quote, review_release_type, text_reasons)
from ._features import type_input
from ._model import LoadedModel, ModelError, load_model, model_root
from ._text import looks_kazakh
from ._normalize import SURROGATE_WARNING, Normalized, clean_surrogates, in_caller_text, normalize
from ._types import Analysis, Person, Quote, ReleaseType
from ._version import __version__

MAX_CHARS = 2_000_000  # a release longer than this is refused rather than silently cut
BATCH = 32  # texts per ONNX call: bounds the memory of the TF-IDF intermediates
MODEL_NAMES = ("release_type", "quote_speaker")


def _check_text(text) -> str:
    if isinstance(text, (bytes, bytearray)):
        raise TypeError("text must be str, not bytes: decode it first (e.g. data.decode('utf-8'))")
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise ValueError(f"text has {len(text):,} characters; the limit for one release is {MAX_CHARS:,}")
    return text


def check_date(date) -> _dt.date | None:
    """A release's date as ``datetime.date``: a date, a datetime, or an ISO string ("2019-03-20", a time may
    follow); None when unknown. ``ValueError``/``TypeError`` name what is wrong."""
    if date is None or isinstance(date, _dt.date) and not isinstance(date, _dt.datetime):
        return date
    if isinstance(date, _dt.datetime):
        return date.date()
    if not isinstance(date, str):
        raise TypeError(f"date must be a datetime.date or an ISO string like '2019-03-20', not {type(date).__name__}")
    s = date.strip()
    try:
        return _dt.date.fromisoformat(s[:10]) if len(s) == 10 or s[10:11] in ("T", " ") else _dt.date.fromisoformat(s)
    except ValueError:
        raise ValueError(f"date {date!r} is not an ISO date like '2019-03-20'") from None


def warnings_for(text: str) -> tuple[str, ...]:
    """Warnings about input the models were not trained for (lone surrogates, empty, not Kazakh)."""
    text, had_surrogates = clean_surrogates(text)
    if had_surrogates:
        return (SURROGATE_WARNING,) + warnings_for(text)
    if not text.strip():
        return ("empty text",)
    if not looks_kazakh(text):
        return (NOT_KAZAKH_WARNING if not kazakh_rules_apply(text) else
                "text does not look like Kazakh (Cyrillic with Kazakh letters); results are unreliable",)
    return ()


NOT_KAZAKH_WARNING = ("text does not look like Kazakh (Cyrillic with Kazakh letters): its type is unreliable, and "
                      "no quotes or people were extracted (the quote and speaker rules read Kazakh)")


_WORD = re.compile(r"[^\W\d_]{2,}")
PROSE_WORDS = 6  # distinct words that make a text prose in some language (not "«а «а «а" or a run of dashes)


def kazakh_rules_apply(text: str) -> bool:
    """The one rule for text in another language (a Russian release): quotes and people are found by
    Kazakh cues, titles and case endings, so in prose that is not Kazakh (``looks_kazakh`` false and at
    least ``PROSE_WORDS`` distinct words in its first 3,000 characters) they are not extracted at all
    (``warnings_for`` says so) rather than attributed by rules that misread it (a Russian
    ``Президент`` went to the era's president). Text without prose (punctuation, one repeated
    letter) still goes through the rules."""
    return looks_kazakh(text) or len(set(_WORD.findall(text[:3000]))) < PROSE_WORDS


class Analyzer:
    """The shipped models of one model folder and what they tell about a text.

    ``Analyzer(model_dir=None)`` uses ``$KZCLASSIFY_MODEL_DIR``, else the models inside the package.
    Models load on first use (thread-safe, once); ``load()`` loads them now. The release-type model's
    kind (TF-IDF text classifier or transformer) is read from its manifest. Every method raises
    ``ModelError`` when a model is missing or corrupt, ``TypeError``/``ValueError`` for bad text.

    Scores are calibrated and results carry ``needs_review`` with reasons (``_calibration``): the review
    thresholds are the ones repeated CV says hold ``review_target`` — the accuracy of what is not
    flagged; a number for both models or ``{"release_type": p, "quote_speaker": q}``; default the
    targets training used (0.98, 0.99). ``ReviewTargetError`` (a ValueError) when no threshold holds it.
    """

    def __init__(self, model_dir: str | Path | None = None, review_target: float | dict | None = None):
        self.model_dir = Path(model_dir) if model_dir is not None else model_root()
        self.review_target = _targets(review_target)
        self._lock = threading.Lock()
        self._models: dict[str, LoadedModel] = {}
        self._calibrations: dict[str, Calibration | None] = {}
        self._thresholds: dict[str, dict | None] = {}

    def _model(self, name: str) -> LoadedModel:
        m = self._models.get(name)
        if m is None:
            with self._lock:
                m = self._models.get(name)
                if m is None:
                    m = load_model(name, self.model_dir)
                    if name == "quote_speaker" and tuple(m.manifest.get("features", FEATURES)) != FEATURES:
                        raise ModelError(f"{m.path}: the ranker was trained on features "
                                         f"{m.manifest['features']}, this kzclassify computes {list(FEATURES)}")
                    cal = read_calibration(m.path.parent, m.manifest)
                    self._thresholds[name] = cal.threshold(self.review_target.get(name)) if cal else None
                    self._calibrations[name] = cal
                    self._models[name] = m
        return m

    def review_thresholds(self) -> dict[str, dict | None]:
        """Per model the row of its CV risk–coverage table in use: ``threshold``, ``coverage`` and
        ``accuracy`` on what is not flagged (None for a model shipped without calibration)."""
        self.load()
        return dict(self._thresholds)

    def _review_of(self, name: str) -> tuple[Calibration | None, float | None]:
        """The model's calibration and review threshold (the model loaded first)."""
        self._model(name)
        row = self._thresholds[name]
        return self._calibrations[name], (row["threshold"] if row else None)

    def load(self) -> "Analyzer":
        """Load every model now (fail early with a ModelError naming the file)."""
        for name in MODEL_NAMES:
            self._model(name)
        return self

    @property
    def model_version(self) -> str:
        """One version string for what these models predict, from their manifests."""
        return "+".join(self._model(n).manifest["model_version"] for n in MODEL_NAMES)

    def classify_many(self, texts) -> list[ReleaseType]:
        """Release types for many texts, in batches of ``BATCH`` per ONNX call."""
        texts = [_check_text(t) for t in texts]
        return self._classify([clean_surrogates(t)[0] for t in texts], None, [text_reasons(warnings_for(t)) for t in texts])

    def _classify(self, texts: list[str], docs: list[Doc] | None = None,
                  why: list[tuple[str, ...]] | None = None) -> list[ReleaseType]:
        """Release types of surrogate-free texts (a lone surrogate read as U+FFFD), calibrated and reviewed;
        ``docs`` their Docs when the caller built them, ``why`` the reasons their input gives for review."""
        why = why or [()] * len(texts)
        m = self._model("release_type")
        cal, threshold = self._review_of("release_type")
        out: list[ReleaseType | None] = [None] * len(texts)
        idx = [i for i, t in enumerate(texts) if t.strip()]
        for i, t in enumerate(texts):
            if not t.strip():
                out[i] = review_release_type(ReleaseType(None, 0.0, {label: 0.0 for label in m.labels}, None, 0.0),
                                             threshold, why[i])
        for b in range(0, len(idx), BATCH):
            chunk = idx[b:b + BATCH]
            if m.manifest.get("kind") == "transformer-classifier":
                from ._transformer import transformer_proba
                proba = transformer_proba(m, [texts[i] for i in chunk])
            else:
                x = np.array([type_input(docs[i] if docs else texts[i]) for i in chunk], dtype=object).reshape(-1, 1)
                proba = m.session.run(None, {"text": x})[1]
            for row, i in zip(proba, chunk):
                rt = ReleaseType.from_scores({label: float(p) for label, p in zip(m.labels, row)})
                if cal is not None:  # calibrated: the label and runner-up stay, the scores become probabilities
                    sc = calibrate_type_scores(cal.data["calibrator"], rt.scores)
                    rt = ReleaseType(rt.label, sc[rt.label], sc, rt.runner_up, sc[rt.label] - sc.get(rt.runner_up, 0.0))
                out[i] = review_release_type(rt, threshold, why[i])
        return out  # type: ignore[return-value]

    def classify(self, text: str) -> ReleaseType:
        """The release type of one text (see classify_many)."""
        return self.classify_many([text])[0]

    def _score_candidates(self, x: np.ndarray) -> np.ndarray:
        return self._model("quote_speaker").session.run(None, {"features": x})[1][:, 1]

    def extract_quotes(self, text: str, date=None) -> list[Quote]:
        """Every direct quote in ``text`` with its speaker; offsets index ``text`` itself. ``date`` (the
        release's, ``datetime.date`` or ISO string) says who the sitting president was (see ``analyze``)."""
        return self._quotes_and_people(_check_text(text), check_date(date))[0]

    def _quotes_and_people(self, text: str, date=None, norm: Normalized | None = None, doc: Doc | None = None,
                           warns: tuple[str, ...] | None = None) -> tuple[list[Quote], tuple[Person, ...]]:
        """Normalised once at the entrance (line breaks, spaces, surrogates), one Doc for every stage;
        offsets back into ``text``; each quote's score calibrated and reviewed (``warns``: the text's
        ``warnings_for``, when the caller has them)."""
        if not kazakh_rules_apply(text):
            return [], ()
        norm = norm or normalize(text)
        doc = doc or Doc(norm.text)
        quotes, people = in_caller_text(text, lambda t: attribute_people(doc, self._score_candidates, date), norm)
        cal, threshold = self._review_of("quote_speaker")
        why = text_reasons(warnings_for(text) if warns is None else warns) if quotes else ()
        out = []
        for q in quotes:
            if cal is not None:  # the raw path score → the probability that the speaker is right
                score = calibrate_quote_score(cal.data, q.resolved_by, q.score) if q.resolved_by != "none" else 0.0
                q = replace(q, score=score)
            out.append(review_quote(q, threshold, why))
        return out, people

    def analyze(self, text: str, date=None) -> Analysis:
        """Release type, quotes and people of one text, with warnings about unusual input and the review flag.

        ``date``: the release's date (``datetime.date``/``datetime`` or an ISO string such as "2019-03-20").
        "Мемлекет басшысы", "Президент" are the president in office that day (Nazarbayev before 20 March
        2019, Tokayev from then on); without a date, the presidents named in the release, then era cues,
        and when nothing decides the quote's speaker is the title itself with a low score."""
        text, date = _check_text(text), check_date(date)
        norm = normalize(text)  # the entrance: one normalisation, one Doc, read by every stage
        doc = Doc(norm.text)
        warns = warnings_for(text)  # one script scan per release, read by both models' review
        quotes, people = self._quotes_and_people(text, date, norm, doc, warns)
        rt = self._classify([clean_surrogates(text)[0]], [doc], [text_reasons(warns)])[0]
        return review_analysis(Analysis(rt, tuple(quotes), warns, people))

    def info(self) -> dict:
        """Version, model folder, and per model its manifest fields or the error that stops it loading."""
        return {"version": __version__, "model_dir": str(self.model_dir),
                "models": {name: self._model_info(name) for name in MODEL_NAMES}}

    def _model_info(self, name: str) -> dict:
        try:
            mf = self._model(name).manifest  # loaded once and kept: info() then analyze() loads nothing twice
        except ModelError as e:
            return {"ok": False, "error": str(e)}
        return {"ok": True, **{k: mf.get(k) for k in ("model_version", "kind", "labels", "metrics", "sha256",
                                                       "mlflow_run_id", "training_data_digest", "created_at")},
                "review": self._thresholds.get(name)}


def _targets(review_target) -> dict[str, float]:
    """``review_target`` as model → target accuracy (the defaults where none is given)."""
    if review_target is None:
        return dict(DEFAULT_TARGETS)
    if isinstance(review_target, dict):
        unknown = set(review_target) - set(MODEL_NAMES)
        if unknown:
            raise ValueError(f"review_target names {sorted(unknown)}; the models are {list(MODEL_NAMES)}")
        targets = {**DEFAULT_TARGETS, **review_target}
    else:
        targets = {n: review_target for n in MODEL_NAMES}
    for n, t in targets.items():
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0.0 < t <= 1.0:
            raise ValueError(f"review target for {n} must be a number in (0, 1], not {t!r}")
    return {n: float(t) for n, t in targets.items()}


_default: Analyzer | None = None
_default_lock = threading.Lock()


def default_analyzer() -> Analyzer:
    """The process-wide analyzer over the shipped models, built on first use."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Analyzer()
    return _default


def classify_many(texts) -> list[ReleaseType]:
    """Release types for many texts. Raises TypeError for a non-str item, ValueError for an
    over-long text, ModelError when the shipped model is missing or corrupt."""
    return default_analyzer().classify_many(texts)


def classify(text: str) -> ReleaseType:
    """The release type of one text (see classify_many)."""
    return default_analyzer().classify(text)


def extract_quotes(text: str, date=None) -> list[Quote]:
    """Every direct quote in ``text`` with its speaker; offsets index ``text`` itself (``date``: see analyze)."""
    return default_analyzer().extract_quotes(text, date)


def analyze(text: str, date=None) -> Analysis:
    """Release type, quotes and people of one text, with warnings about unusual input. ``date`` (the
    release's, ``datetime.date`` or ISO string) decides who "Мемлекет басшысы" is (``Analyzer.analyze``)."""
    return default_analyzer().analyze(text, date)


def info() -> dict:
    """Versions, labels, metrics and sha256 of the shipped models, each checked by loading it."""
    return default_analyzer().info()
