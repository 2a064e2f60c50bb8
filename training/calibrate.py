"""Calibrators and review thresholds, fitted on out-of-fold predictions (issue 23).

Input: for every repeat of a model's cross-validation, one record per scored item (a release, or a quote
whose span is an annotated quote): the release it belongs to, the model's raw score, whether the answer
was right and (quotes) the resolution path. Then:

1. **Method by CV**: isotonic or Platt (and, for quotes, one calibrator per resolution path or one for
   all), fitted on the other releases' records and scored on the held-out releases' (log loss, repeated).
2. **Cross-fitted calibrated scores**: every record calibrated by a calibrator that never saw its
   release; their ECE (10 bins) and reliability curve are the figures reported.
3. **Risk–coverage**: for a grid of thresholds, the share not flagged (coverage) and the accuracy on it,
   mean over repeats; ``kzclassify._calibration.threshold_for`` reads the threshold for a target.
   Held out: the threshold chosen on the other folds, applied to the held-out fold (the promise checked).
4. **Shipped**: the chosen method fitted on all records; its numpy form (``kzclassify._calibration``)
   is checked against the sklearn calibrator (parity) on the corpus at export.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kzclassify._calibration import (CALIBRATION_FORMAT, ReviewTargetError, apply, beta_features, logit, review_row,
                                     threshold_for)

from . import evaluate

METHODS = ("isotonic", "platt", "beta")
FOLDS = 5  # calibration cross-fitting folds (over releases)
MIN_PATH = 40  # a resolution path with this many quotes gets its own calibrator
GRID = np.round(np.arange(0.0, 1.0001, 0.005), 3)  # thresholds of the risk–coverage table
LOGLOSS_CLIP = 1e-3


@dataclass
class Records:
    """One repeat's out-of-fold predictions: release index, raw score, right or not, path (quotes)."""

    group: np.ndarray
    raw: np.ndarray
    correct: np.ndarray
    path: np.ndarray  # "" for release types


def _constant(y: np.ndarray) -> dict:
    """A calibrator for one class only: the Laplace-smoothed rate (never claims 0 or 1)."""
    p = float((y.sum() + 1) / (len(y) + 2))
    return {"method": "isotonic", "x": [0.0, 1.0], "y": [p, p]}


class Fitted:
    """A fitted 1-D calibrator: ``data`` (what kzclassify reads) and ``predict`` (sklearn's own)."""

    def __init__(self, method: str, x: np.ndarray, y: np.ndarray):
        from sklearn.isotonic import IsotonicRegression
        from sklearn.linear_model import LogisticRegression
        self.method = method
        if len(set(y.tolist())) < 2:
            self.data, self._sk = _constant(y), None
        elif method == "isotonic":
            self._sk = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(x, y)
            self.data = {"method": "isotonic", "x": self._sk.X_thresholds_.tolist(), "y": self._sk.y_thresholds_.tolist()}
        elif method == "platt":
            self._sk = LogisticRegression(C=1e4, max_iter=1000).fit(logit(x)[:, None], y)
            self.data = {"method": "platt", "a": float(self._sk.coef_[0, 0]), "b": float(self._sk.intercept_[0])}
        else:
            f, self._cols = beta_features(x), [0, 1]
            self._sk = LogisticRegression(C=1e4, max_iter=1000).fit(f, y)
            if (self._sk.coef_[0] < 0).any():  # Kull et al.: a negative weight makes the map non-monotone;
                self._cols = [int(np.argmax(self._sk.coef_[0]))]  # refit on the other feature alone
                self._sk = LogisticRegression(C=1e4, max_iter=1000).fit(f[:, self._cols], y)
            w = dict(zip(self._cols, self._sk.coef_[0]))
            self.data = {"method": "beta", "a": float(w.get(0, 0.0)), "b": float(w.get(1, 0.0)),
                         "c": float(self._sk.intercept_[0])}

    def predict(self, x: np.ndarray) -> np.ndarray:
        if self._sk is None:
            return apply(self.data, x)
        if self.method == "isotonic":
            return self._sk.predict(np.asarray(x, dtype=np.float64))
        return self._sk.predict_proba(logit(x)[:, None] if self.method == "platt" else beta_features(x)[:, self._cols])[:, 1]


class PathCalibrator:
    """Quotes: one calibrator per resolution path with enough quotes (``by_path``), ``"*"`` for the rest."""

    def __init__(self, method: str, by_path: bool, raw, correct, path):
        self.fitted = {"*": Fitted(method, raw, correct)}
        if by_path:
            for p in sorted(set(path.tolist())):
                m = path == p
                if m.sum() >= MIN_PATH:  # one class only: the smoothed rate (Fitted)
                    self.fitted[p] = Fitted(method, raw[m], correct[m])
        self.method, self.by_path = method, by_path

    @property
    def data(self) -> dict:
        return {"paths": {p: f.data for p, f in self.fitted.items()}}

    def predict(self, raw, path) -> np.ndarray:
        out = np.empty(len(raw))
        for p in set(path.tolist()):
            m = path == p
            out[m] = self.fitted.get(p, self.fitted["*"]).predict(raw[m])
        return out


def candidates(quotes: bool) -> list[tuple[str, bool]]:
    return [(m, bp) for m in METHODS for bp in ((False, True) if quotes else (False,))]


def _fit(cand, raw, correct, path, quotes: bool):
    return PathCalibrator(cand[0], cand[1], raw, correct, path) if quotes else Fitted(cand[0], raw, correct)


def _predict(cal, raw, path, quotes: bool) -> np.ndarray:
    return cal.predict(raw, path) if quotes else cal.predict(raw)


def name_of(cand) -> str:
    return cand[0] + ("-by-path" if cand[1] else "")


def _folds(groups: np.ndarray, seed: int) -> np.ndarray:
    """Fold of every record: releases shuffled into FOLDS folds with ``seed``."""
    uniq = np.unique(groups)
    perm = np.random.RandomState(1000 + seed).permutation(len(uniq))
    fold_of = dict(zip(uniq[perm].tolist(), (np.arange(len(uniq)) % FOLDS).tolist()))
    return np.array([fold_of[g] for g in groups.tolist()])


def cross_fit(reps: list[Records], cand, quotes: bool, scored: np.ndarray | None = None) -> list[np.ndarray]:
    """Per repeat, every record calibrated by a calibrator fitted on the other folds' releases
    (only the ``scored`` records take part in fitting; the others keep score 0)."""
    out = []
    for r, rec in enumerate(reps):
        use = _scored(rec)
        fold = _folds(rec.group, r)
        cal = np.zeros(len(rec.raw))
        for k in range(FOLDS):
            tr, te = use & (fold != k), use & (fold == k)
            if te.any():
                c = _fit(cand, rec.raw[tr], rec.correct[tr], rec.path[tr], quotes)
                cal[te] = _predict(c, rec.raw[te], rec.path[te], quotes)
        out.append(cal)
    return out


def _scored(rec: Records) -> np.ndarray:
    """Records that have a score to calibrate (a quote with no speaker candidate has none: always flagged)."""
    return rec.path != "none"


def log_loss(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p, LOGLOSS_CLIP, 1 - LOGLOSS_CLIP)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def risk_coverage(cal: list[np.ndarray], reps: list[Records]) -> list[dict]:
    """For each threshold of GRID: coverage (share with calibrated score ≥ threshold) and accuracy on that
    share, mean over repeats (``accuracy_min``: the worst repeat), ``n_kept`` mean count not flagged."""
    table = []
    for t in GRID:
        cov, acc, kept = [], [], []
        for c, rec in zip(cal, reps):
            m = (c >= t) & _scored(rec)
            cov.append(m.mean())
            kept.append(m.sum())
            if m.any():
                acc.append(rec.correct[m].mean())
        if not acc:
            break
        table.append({"threshold": float(t), "coverage": float(np.mean(cov)), "accuracy": float(np.mean(acc)),
                      "accuracy_min": float(np.min(acc)), "n_kept": float(np.mean(kept))})
    return table


def held_out(cal: list[np.ndarray], reps: list[Records], target: float) -> dict:
    """The promise checked: per repeat and fold, the threshold for ``target`` read from the other folds'
    table, applied to the fold; accuracy on what is not flagged and coverage, pooled per repeat."""
    accs, covs = [], []
    for r, (c, rec) in enumerate(zip(cal, reps)):
        fold = _folds(rec.group, r)
        keep = np.zeros(len(c), dtype=bool)
        for k in range(FOLDS):
            tr = fold != k
            sub = Records(rec.group[tr], rec.raw[tr], rec.correct[tr], rec.path[tr])
            try:
                t = threshold_for(risk_coverage([c[tr]], [sub]), target)["threshold"]
            except ReviewTargetError:
                continue  # nothing holds the target on the other folds: the whole fold is flagged
            keep |= (fold == k) & (c >= t) & _scored(rec)
        covs.append(keep.mean())
        if keep.any():
            accs.append(rec.correct[keep].mean())
    return {"target": target, "accuracy": float(np.mean(accs)) if accs else float("nan"),
            "accuracy_min": float(np.min(accs)) if accs else float("nan"), "coverage": float(np.mean(covs)),
            "coverage_min": float(np.min(covs))}


def ece_of(cal: list[np.ndarray], reps: list[Records]) -> dict:
    """ECE (10 bins) of the calibrated scores per repeat (mean, std, max) and the pooled reliability curve."""
    eces = []
    for c, rec in zip(cal, reps):
        u = _scored(rec)
        eces.append(evaluate.expected_calibration_error(c[u], rec.correct[u])[0])
    u = np.concatenate([_scored(rec) for rec in reps])
    pooled_c, pooled_y = np.concatenate(cal)[u], np.concatenate([rec.correct for rec in reps])[u]
    _, curve = evaluate.expected_calibration_error(pooled_c, pooled_y)
    return {"ece": float(np.mean(eces)), "ece_std": float(np.std(eces, ddof=1)) if len(eces) > 1 else 0.0,
            "ece_max": float(np.max(eces)), "curve": curve}


@dataclass
class Outcome:
    data: dict  # calibration.json
    final: object  # the shipped calibrator (Fitted or PathCalibrator), for the parity check
    raw_ece: dict
    ece: dict
    chosen: str
    losses: dict
    table: list
    row: dict  # the table's row for the default target
    held: dict


def fit_all(model: str, reps: list[Records], target: float) -> Outcome:
    """Choose the method by CV, cross-fit, tabulate risk–coverage, fit the shipped calibrator."""
    quotes = model == "quote_speaker"
    losses = {}
    for cand in candidates(quotes):
        cf = cross_fit(reps, cand, quotes)
        losses[name_of(cand)] = float(np.mean([log_loss(c[_scored(r)], r.correct[_scored(r)]) for c, r in zip(cf, reps)]))
    cand = min(candidates(quotes), key=lambda c: losses[name_of(c)])
    cal = cross_fit(reps, cand, quotes)
    raw_ece = ece_of([np.where(_scored(r), r.raw, 0.0) for r in reps], reps)
    ece = ece_of(cal, reps)
    table = risk_coverage(cal, reps)
    row = review_row(table, target)
    held = held_out(cal, reps, target)
    use = np.concatenate([_scored(r) for r in reps])
    allr = Records(*(np.concatenate([getattr(r, f) for r in reps])[use] for f in ("group", "raw", "correct", "path")))
    final = _fit(cand, allr.raw, allr.correct, allr.path, quotes)
    data = {"format_version": CALIBRATION_FORMAT, "model": model, "method": name_of(cand),
            **({"paths": final.data["paths"]} if quotes else {"calibrator": final.data}),
            "fitted_on": {"records": int(len(allr.raw)), "repeats": len(reps), "releases": int(len(np.unique(allr.group)))},
            "cv": {"log_loss": losses, "ece": ece["ece"], "ece_std": ece["ece_std"], "raw_ece": raw_ece["ece"]},
            "review": {"target": target, "threshold": row["threshold"], "coverage": row["coverage"],
                       "accuracy": row["accuracy"], "held_out": held, "table": table}}
    return Outcome(data, final, raw_ece, ece, name_of(cand), losses, table, row, held)


def parity(final, data: dict, raw: np.ndarray, path: np.ndarray | None = None) -> dict:
    """sklearn's calibrator vs kzclassify's numpy application of the exported JSON, on the same raw scores."""
    from kzclassify._calibration import quote_calibrator
    if path is None:
        sk, np_ = final.predict(raw), apply(data["calibrator"], raw)
    else:
        sk = final.predict(raw, path)
        np_ = np.array([float(apply(quote_calibrator(data, p), x)) for x, p in zip(raw, path)])
    return {"n": int(len(raw)), "max_abs_diff": float(np.abs(sk - np_).max()) if len(raw) else 0.0}


def plots(out, d, title: str) -> None:
    """Reliability diagram (raw and calibrated, cross-fitted) and risk–coverage curve, PNG + JSON."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], "--", color="grey")
    for e, label in ((out.raw_ece, "raw"), (out.ece, f"calibrated ({out.chosen})")):
        ax.plot([c["confidence"] for c in e["curve"]], [c["accuracy"] for c in e["curve"]], "o-",
                label=f"{label}: ECE {e['ece']:.3f}")
    ax.set_xlabel("score (10 bins)")
    ax.set_ylabel("share right")
    ax.set_title(f"{title}\nreliability (out-of-fold, repeated CV)", fontsize=10)
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(d / "reliability_calibrated.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([r["coverage"] for r in out.table], [r["accuracy"] for r in out.table], "-", label="accuracy not flagged")
    ax.plot([out.row["coverage"]], [out.row["accuracy"] or 0.0], "o", color="red",
            label=f"target {out.data['review']['target']}: threshold {out.row['threshold']:.3f}, "
                  f"coverage {out.row['coverage']:.1%}" + (" (not reached)" if out.row.get("unreachable") else ""))
    ax.axhline(out.data["review"]["target"], ls=":", color="red")
    ax.set_xlabel("coverage (share not flagged)")
    ax.set_ylabel("accuracy on what is not flagged")
    ax.set_title(f"{title}\nrisk–coverage (repeated CV)", fontsize=10)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(d / "risk_coverage.png", dpi=110)
    plt.close(fig)
    evaluate.write_json(d / "calibration.json", out.data)
    evaluate.write_json(d / "risk_coverage.json", out.table)


def summary(out) -> dict:
    """The figures a training Result carries (report tables, model cards)."""
    review = out.data["review"]
    return {**{k: review[k] for k in ("target", "threshold", "coverage", "accuracy", "held_out")},
            "method": out.chosen, "ece": out.ece["ece"], "ece_std": out.ece["ece_std"], "ece_max": out.ece["ece_max"],
            "raw_ece": out.raw_ece["ece"], "parity": out.data["parity"], "log_loss": out.losses}


def log(out, prefix: str = "") -> None:
    """MLflow metrics of a calibration outcome (the active run)."""
    import mlflow
    mlflow.log_metrics({f"{prefix}cal_ece": out.ece["ece"], f"{prefix}cal_ece_std": out.ece["ece_std"],
                        f"{prefix}raw_ece": out.raw_ece["ece"],
                        f"{prefix}review_threshold": out.row["threshold"],
                        f"{prefix}review_coverage": out.row["coverage"],
                        f"{prefix}review_accuracy": out.row["accuracy"] or 0.0,
                        f"{prefix}review_heldout_accuracy": out.held["accuracy"],
                        f"{prefix}review_heldout_coverage": out.held["coverage"]})
    mlflow.log_param(f"{prefix}calibration", out.chosen)
    for row in out.table:
        step = int(round(row["threshold"] * 1000))
        mlflow.log_metrics({f"{prefix}rc_coverage": row["coverage"], f"{prefix}rc_accuracy": row["accuracy"]}, step=step)
