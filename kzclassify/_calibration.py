"""Calibrated scores and the review flag (numpy only): what training fitted, applied at inference.

A model folder may carry ``calibration.json`` (named with its sha256 in the manifest's ``calibration``).
It holds, fitted in training on out-of-fold predictions:

- ``calibrator``: a map from the model's raw score to the probability that the answer is right —
  ``{"method": "isotonic", "x": [...], "y": [...]}`` (piecewise linear, clipped at the ends, as
  sklearn's IsotonicRegression predicts), ``{"method": "platt", "a": .., "b": ..}`` (sigmoid of
  ``a·logit(x) + b``) or ``{"method": "beta", "a", "b", "c"}`` (sigmoid of ``a·ln x − b·ln(1−x) + c``). For the release type the raw score is the top label's probability; for a
  quote it is the attribution's raw score, with one calibrator per resolution path
  (``Quote.resolved_by``) that had enough quotes in training and ``"*"`` for the others.
- ``review``: the risk–coverage table of repeated CV (``threshold``, ``coverage`` = share not
  flagged, ``accuracy`` on what is not flagged) and the default ``target``; ``threshold_for``
  reads the threshold for any target from it (training and inference call the same function).

The review rule is ``review_release_type`` / ``review_quote`` / ``review_analysis``: one function each.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ._model import ModelError, file_sha256

CALIBRATION_FORMAT = 1
EPS = 1e-6  # logit clip of a raw score (0 and 1 have no logit)
MIN_KEPT = 20  # a threshold needs this many examples not flagged (per repeat, on average) to speak for a target
FLAG_ALL = math.nextafter(1.0, 2.0)  # a threshold above every probability
DEFAULT_TARGETS = {"release_type": 0.98, "quote_speaker": 0.99}

# the reasons, one string each (the CLI, the tables, Label Studio's `review` field show them as written)
LOW_TYPE = "low type confidence"
RUNNER_UP = "runner-up close"
SPEAKER_UNCERTAIN = "speaker uncertain"
NO_SPEAKER = "no speaker named"
NON_KAZAKH = "non-Kazakh text"
EMPTY = "empty text"
INVALID_CHARS = "invalid characters in the text"
REASONS = (LOW_TYPE, RUNNER_UP, SPEAKER_UNCERTAIN, NO_SPEAKER, NON_KAZAKH, EMPTY, INVALID_CHARS)


class ReviewTargetError(ValueError):
    """No threshold of the CV risk–coverage table holds the asked accuracy."""


def apply(cal: dict, x) -> np.ndarray:
    """Calibrated probabilities for raw scores ``x`` (any shape), float64 in [0, 1]."""
    x = np.asarray(x, dtype=np.float64)
    method = cal["method"]
    if method == "isotonic":
        xs, ys = np.asarray(cal["x"], dtype=np.float64), np.asarray(cal["y"], dtype=np.float64)
        return np.interp(np.clip(x, xs[0], xs[-1]), xs, ys)
    if method == "platt":
        return _sigmoid(cal["a"] * logit(x) + cal["b"])
    if method == "beta":
        return _sigmoid(beta_features(x) @ np.array([cal["a"], cal["b"]]) + cal["c"])
    if method == "identity":
        return np.clip(x, 0.0, 1.0)
    raise ValueError(f"unknown calibration method {method!r}")


def logit(x) -> np.ndarray:
    """The Platt calibrator's input, shared with training (the same clip)."""
    x = np.clip(np.asarray(x, dtype=np.float64), EPS, 1 - EPS)
    return np.log(x) - np.log1p(-x)


def beta_features(x) -> np.ndarray:
    """The beta calibrator's inputs (Kull et al. 2017): ``ln x`` and ``-ln(1 - x)``, shape (..., 2)."""
    x = np.clip(np.asarray(x, dtype=np.float64), EPS, 1 - EPS)
    return np.stack([np.log(x), -np.log1p(-x)], axis=-1)


def _sigmoid(z) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def calibrate_type_scores(cal: dict, raw: dict[str, float]) -> dict[str, float]:
    """Calibrated label → probability: the best label's probability from the calibrator, the rest
    shared in proportion to the raw probabilities (never above the best's, so the label stays)."""
    if not raw:
        return {}
    best = max(raw, key=lambda k: raw[k])
    p1 = raw[best]
    c1 = float(apply(cal, p1))
    rest = 1.0 - p1
    out = {}
    for k, p in raw.items():
        out[k] = c1 if k == best else (min(c1, p * (1.0 - c1) / rest) if rest > 0 else 0.0)
    return out


def quote_calibrator(cal: dict, path: str) -> dict:
    """The calibrator of one resolution path (``Quote.resolved_by``), else the pooled one."""
    paths = cal["paths"]
    return paths.get(path, paths["*"])


def calibrate_quote_score(cal: dict, path: str, raw: float) -> float:
    return float(apply(quote_calibrator(cal, path), raw))


def threshold_for(table: list[dict], target: float) -> dict:
    """The row of the CV risk–coverage table whose threshold is the lowest that holds ``target``
    (mean accuracy over the repeats on what is not flagged ≥ target, with at least MIN_KEPT
    examples not flagged). ReviewTargetError when no row does."""
    if not 0.0 < target <= 1.0:
        raise ReviewTargetError(f"review target {target!r} is not a probability in (0, 1]")
    ok = [r for r in table if r["accuracy"] >= target and r["n_kept"] >= MIN_KEPT]
    if not ok:
        best = max((r for r in table if r["n_kept"] >= MIN_KEPT), key=lambda r: r["accuracy"], default=None)
        reach = f"; the best CV accuracy is {best['accuracy']:.4f} (coverage {best['coverage']:.1%})" if best else ""
        raise ReviewTargetError(f"no review threshold holds accuracy {target} in cross-validation{reach}")
    return min(ok, key=lambda r: r["threshold"])


@dataclass(frozen=True)
class Calibration:
    """One model's calibrator and review table, as shipped."""

    model: str  # "release_type" or "quote_speaker"
    data: dict

    def threshold(self, target: float | None = None) -> dict:
        """The review row for ``target`` (ReviewTargetError when none holds it); for the target training
        used, a row that flags everything when CV found no threshold holding it."""
        review = self.data["review"]
        if target is not None and target != review["target"]:
            return threshold_for(review["table"], target)
        return review_row(review["table"], review["target"])


def review_row(table: list[dict], target: float) -> dict:
    """``threshold_for``, or when nothing holds ``target`` a row whose threshold flags every item."""
    try:
        return threshold_for(table, target)
    except ReviewTargetError:
        return {"threshold": FLAG_ALL, "coverage": 0.0, "accuracy": None, "n_kept": 0.0, "unreachable": True}


def read_calibration(model_dir: Path, manifest: dict) -> Calibration | None:
    """The calibration a manifest names (its sha256 checked), None when the manifest names none."""
    ref = manifest.get("calibration")
    if ref is None:
        return None
    if not isinstance(ref, dict) or not isinstance(ref.get("file"), str) or Path(ref["file"]).name != ref["file"]:
        raise ModelError(f"{model_dir / 'manifest.json'}: 'calibration' must name a file beside it and its sha256")
    path = model_dir / ref["file"]
    if not path.is_file():
        raise ModelError(f"{path}: calibration file not found (named in {model_dir / 'manifest.json'})")
    digest = file_sha256(path)
    if digest != ref.get("sha256"):
        raise ModelError(f"{path}: sha256 {digest[:16]}… does not match the manifest's "
                         f"{str(ref.get('sha256'))[:16]}… (corrupt or replaced calibration file)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelError(f"{path}: calibration is not valid JSON ({e})") from None
    if not isinstance(data, dict) or data.get("format_version") != CALIBRATION_FORMAT:
        raise ModelError(f"{path}: calibration format {data.get('format_version') if isinstance(data, dict) else None!r},"
                         f" this kzclassify reads format {CALIBRATION_FORMAT}")
    try:
        cals = [data["calibrator"]] if "calibrator" in data else list(data["paths"].values())
        if "paths" in data and "*" not in data["paths"]:
            raise KeyError("the pooled calibrator '*'")
        for c in cals:
            apply(c, 0.5)
        review_row(data["review"]["table"], data["review"]["target"])
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise ModelError(f"{path}: calibration is incomplete or malformed ({type(e).__name__}: {e})") from None
    return Calibration(manifest.get("name", model_dir.name), data)


# --- the review rule -------------------------------------------------------------------------------------

def text_reasons(warnings: tuple[str, ...]) -> tuple[str, ...]:
    """Reasons from the text itself (``_api.warnings_for``): input the models were not trained for."""
    out = []
    for w in warnings:
        if w == "empty text":
            out.append(EMPTY)
        elif w.startswith("text does not look like Kazakh"):
            out.append(NON_KAZAKH)
        else:
            out.append(INVALID_CHARS)
    return tuple(out)


def review_release_type(rt, threshold: float | None, reasons_from_text: tuple[str, ...] = ()):
    """``rt`` with ``needs_review``/``reasons``: below the threshold → ``low type confidence``, and
    ``runner-up close`` when the runner-up is at least half as likely as the label; text reasons added.
    ``threshold`` None (a model without calibration): only the text reasons flag."""
    reasons = list(reasons_from_text)
    if rt.label is not None and threshold is not None and rt.score < threshold:
        reasons.append(LOW_TYPE)
        if rt.runner_up is not None and rt.scores.get(rt.runner_up, 0.0) >= rt.score / 2:
            reasons.append(RUNNER_UP)
    return replace(rt, needs_review=bool(reasons), reasons=tuple(reasons))


def review_quote(q, threshold: float | None, reasons_from_text: tuple[str, ...] = ()):
    """``q`` with ``needs_review``/``reasons``: no mention → ``no speaker named``; a calibrated score
    below the threshold → ``speaker uncertain``; text reasons added."""
    reasons = list(reasons_from_text)
    if q.mention_start < 0 or not q.speaker:
        reasons.append(NO_SPEAKER)
    elif threshold is not None and q.score < threshold:
        reasons.append(SPEAKER_UNCERTAIN)
    return replace(q, needs_review=bool(reasons), reasons=tuple(reasons))


def review_analysis(analysis):
    """The release needs review when its type or any quote does, or its text does: the reasons of its
    parts in order, each once."""
    reasons: list[str] = []
    for r in analysis.release_type.reasons + tuple(r for q in analysis.quotes for r in q.reasons):
        if r not in reasons:
            reasons.append(r)
    return replace(analysis, needs_review=bool(reasons), reasons=tuple(reasons))
