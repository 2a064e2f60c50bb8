"""One retraining of the loop: merged data → both models as a challenger → the gate → promotion.

``retrain`` (the backend's job and ``python -m training retrain``/``all``) opens one parent MLflow run, in the
``kzclassify`` experiment (tagged so the MLflow UI opens it as model training), with the child runs of the
release-type model, the quote ranker and the champion re-scored. The parent run carries the headline metrics
under stable names (``macro_f1``, ``accuracy``, ``f1_<class>``, ``speaker_accuracy``, ``end_to_end_f1``,
``calibration_ece``), the data counts (``data.*``, ``diff.*``), the gate's numbers (``gate.*``) and the artifacts
``label_diff.json``, ``confusion_matrix.json``/``.png``, ``gate.json`` and ``data/training_rows.json`` (what the
next retraining diffs against and re-scores this one with).

The gate (one rule, ``decide``): on the same folds (``training.folds``, by release id) and seeds, the challenger
(trained on the new labels) and the champion (its recipe trained on the champion's own training rows, those
outside each fold) are scored on the new labels. For each gate metric, ``d`` is the paired difference per repeat
(challenger − champion) and ``spread`` the larger of the two models' standard deviations across repeats: the
challenger is not worse when ``mean(d) ≥ −spread``. Metrics: release-type macro-F1 on every release, macro-F1 on
the releases whose type the champion's data and the new data agree on (so labels that got worse cannot excuse
a worse model), and speaker accuracy. Promotion also needs ONNX parity of both new models.
"""
from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import paths
from labeling.io import load_json

from . import evaluate, registry, tracking
from .merge import Merged, label_diff, merge

EXPERIMENT = tracking.LOOP_EXPERIMENT
GATE_METRICS = ("macro_f1", "macro_f1_agreed", "speaker_accuracy")


@dataclass(frozen=True)
class RetrainOutcome:
    run_id: str
    versions: dict  # registered model name → version registered by this retraining
    promoted: bool
    decision: str  # one line with the numbers
    model_version: str  # the served model version after the call (Analyzer.model_version of models_dir)
    counts: dict  # tasks, annotated, skipped_unannotated, releases_added, labels_changed, quotes_changed, …


@dataclass(frozen=True)
class Gate:
    promote: bool
    line: str
    metrics: dict  # gate metric → {"challenger": [...], "champion": [...], "d": mean, "spread": s, "ok": bool}
    parity_ok: bool


def _std(v) -> float:
    return float(np.std(v, ddof=1)) if len(v) > 1 else 0.0


def decide(challenger: dict, champion: dict | None, parity_ok: bool, champion_name: str = "champion") -> Gate:
    """The gate (see the module docstring): per metric, per-repeat lists of both models."""
    if champion is None:
        line = ("promoted: first champion (nothing to compare with)" if parity_ok
                else "held back: ONNX parity failed (and no champion to compare with)")
        return Gate(parity_ok, line, {}, parity_ok)
    out, parts = {}, []
    for k in GATE_METRICS:
        a, b = np.array(challenger[k], dtype=float), np.array(champion[k], dtype=float)
        if not len(a) or not len(b) or np.isnan(a).any() or np.isnan(b).any():
            continue
        d = float((a - b).mean())
        spread = max(_std(a), _std(b))
        ok = d >= -spread - 1e-12
        out[k] = {"challenger": a.tolist(), "champion": b.tolist(), "challenger_mean": float(a.mean()),
                  "champion_mean": float(b.mean()), "d": d, "spread": spread, "ok": ok}
        parts.append(f"{k} {a.mean():.3f} vs {b.mean():.3f} (Δ {d:+.3f}, spread {spread:.3f}{'' if ok else ', WORSE'})")
    promote = parity_ok and all(m["ok"] for m in out.values())
    verdict = "promoted" if promote else "held back"
    why = "" if promote else (" (ONNX parity failed)" if not parity_ok else " (worse beyond the repeat spread)")
    line = (f"{verdict}{why}: challenger vs {champion_name} on the new labels, same folds, paired over "
            f"{len(challenger['macro_f1'])} repeats "
            f"(not worse when mean Δ ≥ −spread): " + "; ".join(parts) + f"; ONNX parity {'ok' if parity_ok else 'FAILED'}")
    return Gate(promote, line, out, parity_ok)


def rescore_champion(champion_rows: list[dict], rows: list[dict], recipe: str, folds: int, seeds: list[int],
                     labels: list[str]) -> tuple[list[np.ndarray], list[float]]:
    """The champion on the new labels with the same folds: its recipe trained, per fold and seed, on its own
    training rows outside the fold, predicting the new rows in the fold. Release-type predictions per seed
    and the quote ranker's speaker accuracy per seed."""
    from kzclassify._features import type_input

    from . import quotes, release_type
    from .folds import fold_ids
    factory = release_type.candidates()[recipe]
    X_old = [type_input(r["text"]) for r in champion_rows]
    y_old = np.array([r["release_type"] for r in champion_rows])
    X_new = np.array([type_input(r["text"]) for r in rows], dtype=object)
    preds, speaker = [], []
    for s in seeds:
        f_old = fold_ids([r["id"] for r in champion_rows], folds, s)
        f_new = fold_ids([r["id"] for r in rows], folds, s)
        pred = np.empty(len(rows), dtype=object)
        for k in sorted(set(f_new.tolist())):
            m = f_old != k
            est = factory().fit([x for x, keep in zip(X_old, m) if keep], y_old[m])
            te = np.flatnonzero(f_new == k)
            pred[te] = est.predict(list(X_new[te]))
        preds.append(pred.astype(str))
        speaker.append(quotes.speaker_accuracy(quotes.cross_validate(rows, folds, seed=s,
                                                                     train_rows=champion_rows)["ranker"]))
    return preds, speaker


def _macro_f1(y, pred, labels, mask=None) -> float:
    if mask is not None:
        y, pred = y[mask], pred[mask]
    return evaluate.classification_metrics(y, pred, labels)["macro_f1"] if len(y) else float("nan")


def _headline(rt, q) -> dict:
    """The parent run's headline metrics (stable names; compare-runs charts them)."""
    cv = rt.shipped["cv"]
    out = {"macro_f1": cv["macro_f1"], "macro_f1_std": cv["macro_f1_std"], "accuracy": cv["accuracy"],
           "min_class_f1": cv["min_class_f1"], "calibration_ece": rt.shipped["ece"],
           "speaker_accuracy": float(np.mean(q.speaker_acc_repeats)), "end_to_end_f1": float(np.mean(q.e2e_f1_repeats)),
           "quote_f1": q.table["ranker"]["all"]["exact_f1"]}
    out.update({f"f1_{label}": v["f1"] for label, v in cv["per_class"].items()})
    return out


def _served_version(models_dir: Path) -> str:
    from kzclassify import Analyzer, ModelError
    try:
        return Analyzer(models_dir).model_version
    except ModelError as e:
        return f"unavailable ({e})"


def retrain(project_export: list[dict] | None, *, store: str | None = None, committed: Path = paths.EXPORT,
            models_dir: Path = paths.MODELS, folds: int = 5, repeats: int | None = None, log=print,
            full: bool = False, recipe: str | None = None) -> RetrainOutcome:
    """Merge ``committed`` with ``project_export`` (a Label Studio export, None: the committed data alone),
    train both models as the challenger, gate them against the champion and promote when not worse
    (``models_dir`` then restored from the registry, atomically). ``full`` compares every release-type
    candidate (``python -m training all``); otherwise the champion's recipe is retrained."""
    import mlflow

    from labeling.schema import schema

    from . import quotes, release_type
    t0 = time.time()
    say = log
    log = lambda msg: say(f"[{time.time() - t0:5.0f} s] {msg}")  # noqa: E731
    repeats = repeats or release_type.REPEATS
    seeds = release_type.seeds(repeats)
    merged: Merged = merge(load_json(committed), project_export)
    rows = merged.rows
    if not rows:
        raise ValueError("no annotated release to train on")
    champ_rows, champ = registry.champion_rows(store)
    champ_note = ""
    if champ is not None and champ_rows is None:  # a champion registered before runs kept their rows
        champ_rows = merge(load_json(committed), None).rows
        champ_note = " (the champion's run kept no training rows: its data is taken to be the committed dataset)"
    diff = label_diff(champ_rows, rows)
    counts = {**merged.counts, **diff["counts"]}
    generation = registry.next_generation(store, models_dir)
    labels = list(schema().types)
    log(f"retraining generation {generation}: {len(rows)} releases ({counts['from_project']} from the project, "
        f"{counts['skipped_unannotated']} unannotated tasks skipped); vs champion: "
        + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in diff["counts"].items()))
    tracking.setup(EXPERIMENT, store)
    with mlflow.start_run(run_name=f"retrain-g{generation}") as parent:
        mlflow.set_tags({"git_commit": tracking.git_commit(), "stage": "retrain", "model_generation": str(generation),
                         "champion_generation": str(champ["generation"]) if champ else "none"})
        mlflow.log_params({"folds": folds, "repeats": repeats, "seeds": ",".join(map(str, seeds)),
                           "generation": generation, "full_comparison": full,
                           "champion": champ["model_version"] if champ else "none",
                           "champion_recipe": champ["chosen"] if champ else "none",
                           "committed_export": str(committed), "project_export": project_export is not None})
        mlflow.log_metrics({f"data.{k}": v for k, v in merged.counts.items()})
        mlflow.log_metrics({f"diff.{k}": v for k, v in diff["counts"].items()})
        with tempfile.TemporaryDirectory() as td:
            d = Path(td)
            evaluate.write_json(d / "label_diff.json", diff)
            mlflow.log_artifact(str(d / "label_diff.json"))
            (d / "data").mkdir()
            evaluate.write_json(d / "data" / "training_rows.json", rows)
            mlflow.log_artifacts(str(d / "data"), artifact_path="data")

        only = recipe or (None if full or champ is None or champ["chosen"] not in release_type.SHIPPABLE
                          else champ["chosen"])
        log(f"release type: {'every candidate' if only is None else only} × {repeats} repeats × {folds} folds")
        rt = release_type.train(rows=rows, store=store, folds=folds, repeats=repeats, only=only,
                                generation=generation, experiment=EXPERIMENT, alias=registry.CHALLENGER)
        log(f"quote ranker: {repeats} repeats × {folds} folds")
        q = quotes.train(rows=rows, store=store, folds=folds, repeats=repeats, generation=generation,
                         experiment=EXPERIMENT, alias=registry.CHALLENGER)
        y = np.array([r["release_type"] for r in rows])
        old_type = {r["id"]: r["release_type"] for r in champ_rows or []}
        agreed = np.array([old_type.get(r["id"]) == r["release_type"] for r in rows])
        challenger = {"macro_f1": [m["macro_f1"] for m in rt.table[rt.chosen]["repeats"]],
                      "macro_f1_agreed": [_macro_f1(y, p, labels, agreed) for p in rt.cv_pred_repeats],
                      "speaker_accuracy": q.speaker_acc_repeats}
        champion = None
        if champ is not None:
            log(f"champion {champ['model_version']} ({champ['chosen']}) re-scored on the new labels, same folds")
            with mlflow.start_run(run_name=f"champion-g{champ['generation']}-rescored", nested=True):
                mlflow.set_tags({"stage": "champion_rescored"})
                mlflow.log_params({"champion": champ["model_version"], "recipe": champ["chosen"],
                                   "champion_rows": len(champ_rows), "folds": folds, "repeats": repeats})
                preds, speaker = rescore_champion(champ_rows, rows, champ["chosen"], folds, seeds, labels)
                champion = {"macro_f1": [_macro_f1(y, p, labels) for p in preds],
                            "macro_f1_agreed": [_macro_f1(y, p, labels, agreed) for p in preds],
                            "speaker_accuracy": speaker}
                mlflow.log_metrics({k: float(np.mean(v)) for k, v in champion.items() if not np.isnan(v).any()})
        parity_ok = registry.parity_ok
        gate = decide(challenger, champion, parity_ok(rt.manifest["parity"]) and parity_ok(q.manifest["parity"]),
                      f"champion {champ['model_version']}{champ_note}" if champ else "champion")
        log(gate.line)
        mlflow.log_metrics(_headline(rt, q))
        mlflow.log_metrics({"gate.promoted": int(gate.promote), "gate.parity_ok": int(gate.parity_ok),
                            "agreed_releases": int(agreed.sum())})
        for k, m in gate.metrics.items():
            mlflow.log_metrics({f"gate.{k}.d": m["d"], f"gate.{k}.spread": m["spread"],
                                f"gate.{k}.champion": m["champion_mean"], f"gate.{k}.challenger": m["challenger_mean"]})
        mlflow.set_tags({"gate.decision": gate.line[:4000], "gate.promoted": str(gate.promote).lower()})
        with tempfile.TemporaryDirectory() as td:
            d = Path(td)
            conf = rt.shipped["cv"]["confusion"]
            evaluate.write_json(d / "confusion_matrix.json", conf)
            evaluate.plot_confusion(conf, d / "confusion_matrix.png", f"generation {generation}: {rt.chosen} "
                                    f"(CV, {repeats} repeats summed)")
            evaluate.write_json(d / "gate.json", {"rule": "not worse when mean paired Δ ≥ −spread (the larger "
                                                  "standard deviation across repeats) on every gate metric, "
                                                  "and ONNX parity", "promote": gate.promote, "line": gate.line,
                                                  "metrics": gate.metrics, "parity_ok": gate.parity_ok})
            mlflow.log_artifacts(str(d))
        versions = {rt.model_name: rt.version, q.model_name: q.version}
        c = registry.client(store)
        for name, v in versions.items():
            c.set_model_version_tag(name, v, "gate", "promoted" if gate.promote else "held back")
            c.set_model_version_tag(name, v, "gate_decision", gate.line[:4000])
            c.set_model_version_tag(name, v, "retrain_run_id", parent.info.run_id)
            c.update_model_version(name, v, description=(
                f"Generation {generation} ({rt.manifest['model_version'] if name == rt.model_name else q.manifest['model_version']}), "
                f"retraining run {parent.info.run_id}. Data: {len(rows)} releases; vs champion "
                + ", ".join(f"{k.replace('_', ' ')} {x}" for k, x in diff["counts"].items())
                + f". Gate: {gate.line}"))
        if gate.promote:
            moved = registry.promote(str(generation), store, models_dir)
            log(f"{moved.line()}; {models_dir} restored from the registry")
        mlflow.log_metric("seconds", round(time.time() - t0, 1))
        return RetrainOutcome(parent.info.run_id, versions, gate.promote, gate.line, _served_version(models_dir),
                              counts)
