"""Stage 2 (release type): compare baselines and candidates in one run, train the shipped model, log to MLflow.

Every model is measured with the same REPEATED k-fold over distinct releases (folds drawn
from the release id, ``training.folds``) (``REPEATS`` seeds: the spread across repeats says how much of a
difference is noise; the folds are the same for every model, so differences
are paired) and on the fixed test split of ``training.data`` (fitted on
train+validation; the test split was not read while writing cues or features).
The CV errors of the previous model and of the shipped one are counted by the
error families of ``release_type_review.json`` (a reading of every CV error of
the previous model outside the test split against the guide and the notes).
"""
from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from kzclassify._features import type_input
from kzclassify._rules import rule_type
from labeling.schema import schema

from . import evaluate, tracking
from .folds import splits as split_by_id
from .review import REVIEW, load_review  # noqa: F401  (REVIEW: where the reading is, for callers)

MODEL_NAME, EXPERIMENT = tracking.RELEASE_TYPE_MODEL, tracking.RELEASE_TYPE_EXPERIMENT
SEED = 0
REPEATS = 3
# learning curve: the shipped candidate trained on these fractions of each CV training fold (1.0 is the CV itself)
CURVE_FRACTIONS = (0.6, 0.8)
MIN_PER_CLASS = 3  # the sigmoid calibration's inner 3-fold needs three releases of each class
# the structure tokens of kzclassify._features.lead_tokens (and the kw_ cue tokens): a block of their own
STRUCTURE_TOKENS = r"(?:kw|op|os|prs|pr|ps|ko|kp|k1|kb|bo|fr|lo|kl|top|ev)_\w+"
BEFORE = "tfidf_word_char_svc_v1"  # the model shipped before issue 14: the same learner on the input without structure


def _word(max_features=20000):
    from sklearn.feature_extraction.text import TfidfVectorizer
    # \w{2,} in Python equals [\p{L}\p{N}_]{2,} in the ONNX tokenizer (tokenexp) on this corpus
    # sublinear_tf stays off: skl2onnx silently ignores it (parity broke by 3e-3)
    return TfidfVectorizer(token_pattern=r"\w{2,}", lowercase=False, ngram_range=(1, 2), min_df=2,
                           sublinear_tf=False, max_features=max_features)


def _char(max_features=30000, ngram_range=(2, 4)):
    from sklearn.feature_extraction.text import TfidfVectorizer
    return TfidfVectorizer(analyzer="char", lowercase=False, ngram_range=ngram_range, min_df=2,
                           sublinear_tf=False, max_features=max_features)


def _structure():
    from sklearn.feature_extraction.text import TfidfVectorizer
    return TfidfVectorizer(token_pattern=STRUCTURE_TOKENS, lowercase=False, min_df=2, sublinear_tf=False)


def _svc(C=1.0):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC
    return CalibratedClassifierCV(LinearSVC(C=C, class_weight="balanced", random_state=SEED),
                                  method="sigmoid", cv=3, ensemble=False)


def _lr(C=20):
    from sklearn.linear_model import LogisticRegression
    return LogisticRegression(C=C, max_iter=5000, class_weight="balanced")


def candidates() -> dict:
    """name → factory of an unfitted sklearn estimator that reads ``type_input`` strings (the shippable ones),
    cheapest to run first (ONNX cost per release grows with the character n-grams)."""
    from sklearn.pipeline import make_pipeline, make_union

    return {
        "structure_svc": lambda: make_pipeline(_structure(), _svc()),
        "tfidf_word_svc": lambda: make_pipeline(_word(), _svc()),
        "tfidf_word_lr": lambda: make_pipeline(_word(), _lr()),
        "tfidf_word_structure_svc": lambda: make_pipeline(make_union(_word(), _structure()), _svc()),
        "tfidf_word_char3_svc": lambda: make_pipeline(make_union(_word(), _char(ngram_range=(3, 3))), _svc()),
        "tfidf_word_char_svc": lambda: make_pipeline(make_union(_word(), _char()), _svc()),
    }


SHIPPABLE = tuple(candidates())
# candidates this close to the best mean CV macro-F1 count as equal (it is below the spread across repeats
# and across seeds seen here); the cheapest of them is shipped
TIE_TOLERANCE = 0.005


def choose(table: dict) -> str:
    """The cheapest shippable candidate whose mean CV macro-F1 is within TIE_TOLERANCE of the best."""
    best = max(table[n]["cv"]["macro_f1"] for n in SHIPPABLE)
    return next(n for n in SHIPPABLE if table[n]["cv"]["macro_f1"] >= best - TIE_TOLERANCE)


def baselines() -> dict:
    """name → (input function, factory): models kept for comparison, not shipped."""
    from sklearn.dummy import DummyClassifier
    from sklearn.pipeline import make_pipeline, make_union
    return {
        "majority": (type_input, lambda: DummyClassifier(strategy="most_frequent")),
        BEFORE: (partial(type_input, structure=False), lambda: make_pipeline(make_union(_word(), _char()), _svc())),
    }


@dataclass
class Result:
    run_id: str
    model_name: str
    version: str
    chosen: str
    table: dict  # model → {"cv": summary over repeats, "repeats": [metrics], "test": metrics}
    shipped: dict  # metrics of the shipped model
    data_digest: str
    families: dict = field(default_factory=dict)  # family → {"before": n, "after": n}
    curve: list = field(default_factory=list)  # [{"fraction", "n_train", "macro_f1", ...}] of the shipped candidate
    paired: dict = field(default_factory=dict)  # model → macro-F1/accuracy difference to BEFORE per repeat
    repeats: int = REPEATS
    before: str = BEFORE
    folds: int = 5
    manifest: dict = field(default_factory=dict)  # the shipped folder's manifest (logged as model_dir/)
    cv_pred_repeats: list = field(default_factory=list)  # the shipped candidate's CV predictions, one array per seed


def seeds(repeats: int = REPEATS) -> list[int]:
    return [SEED + i for i in range(repeats)]


def _cv_once(factory, X, y, folds, seed, ids):
    """Out-of-fold predictions and probabilities on the folds of ``training.folds`` (by release id)."""
    from sklearn.model_selection import cross_val_predict
    proba = cross_val_predict(factory(), X, y, cv=split_by_id(ids, folds, seed), method="predict_proba")
    classes = np.array(sorted(set(y)))
    return classes[proba.argmax(1)], proba


def subsample(idx: np.ndarray, y: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """A stratified share of the training indices ``idx``: ``ceil(fraction × n)`` of each class, at least
    ``MIN_PER_CLASS`` (or all when the class has fewer), drawn with a fixed seed."""
    rng = np.random.RandomState(seed)
    keep = []
    for c in np.unique(y[idx]):
        members = idx[y[idx] == c]
        k = min(len(members), max(MIN_PER_CLASS, int(np.ceil(fraction * len(members)))))
        keep.append(rng.choice(members, k, replace=False))
    return np.sort(np.concatenate(keep))


def learning_curve(factory, X: list, y: np.ndarray, labels: list[str], folds: int, runs: list[int],
                   ids: list[str], fractions=CURVE_FRACTIONS) -> list[dict]:
    """Repeated CV with each training fold cut to ``fraction`` (the test folds stay whole): how much the
    model still gains from more annotated releases. One row per fraction: mean and spread over repeats."""
    Xa = np.array(X, dtype=object)
    rows = []
    for fraction in fractions:
        reps, sizes = [], []
        for s in runs:
            pred = np.empty(len(y), dtype=object)
            for tr, te in split_by_id(ids, folds, s):
                tr = subsample(tr, y, fraction, s)
                sizes.append(len(tr))
                pred[te] = factory().fit(list(Xa[tr]), y[tr]).predict(list(Xa[te]))
            reps.append(evaluate.classification_metrics(y, pred.astype(str), labels))
        summary = summarize(reps, labels)
        rows.append({"fraction": fraction, "n_train": round(float(np.mean(sizes))),
                     **{k: summary[k] for k in ("macro_f1", "macro_f1_std", "accuracy", "accuracy_std",
                                                "min_class_f1")}})
    return rows


def summarize(repeats: list[dict], labels: list[str]) -> dict:
    """Mean, standard deviation and range over repeats; per class means (F1 also its spread)."""
    out = {}
    for k in ("accuracy", "macro_f1"):
        v = np.array([m[k] for m in repeats])
        out.update({k: float(v.mean()), f"{k}_std": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
                    f"{k}_min": float(v.min()), f"{k}_max": float(v.max())})
    out["per_class"] = {}
    for l in labels:
        pc = [m["per_class"][l] for m in repeats]
        f1 = np.array([p["f1"] for p in pc])
        out["per_class"][l] = {"precision": float(np.mean([p["precision"] for p in pc])),
                               "recall": float(np.mean([p["recall"] for p in pc])), "f1": float(f1.mean()),
                               "f1_std": float(f1.std(ddof=1)) if len(f1) > 1 else 0.0,
                               "support": pc[0]["support"]}
    out["min_class_f1"] = min(v["f1"] for v in out["per_class"].values())
    out["confusion"] = {"labels": labels, "matrix": np.sum([m["confusion"]["matrix"] for m in repeats], 0).tolist(),
                        "note": f"summed over {len(repeats)} repeats"}
    return out


def error_families(ids, y, pred, split, reviewed: dict) -> dict:
    """Count one model's CV errors by family; test-split errors were not read, others may be unreviewed."""
    out: dict[str, int] = {}
    for i, t, p, s in zip(ids, y, pred, split):
        if t == p:
            continue
        fam = "held_out_test (not read)" if s == "test" else reviewed.get(i, {}).get("family", "unreviewed")
        out[fam] = out.get(fam, 0) + 1
    return out


def train(export_path=None, store=None, folds: int = 5, out_dir: str | Path | None = None,
          limit: int | None = None, register: bool = True, repeats: int = REPEATS, *, rows: list[dict] | None = None,
          only: str | None = None, generation: int | None = None, experiment: str = EXPERIMENT,
          alias: str | None = None) -> Result:
    """Run the comparison, fit the best shippable candidate on all data, log and register it.

    ``rows`` (training rows, e.g. ``training.merge``'s) replace the export; ``only`` names the one candidate to
    train (a retraining of the champion's recipe: no baselines, no learning curve); ``limit`` keeps at most N
    releases per type (for tests); ``store`` is the MLflow store dir. The run (nested under an active run when
    there is one) logs the shipped model folder (``model_dir/``: model.onnx, manifest.json, CARD.md): the ONNX
    file is converted once, here, and restored from this artifact ever after. ``alias`` is set on the
    registered version (None: none).
    """
    import mlflow

    from .data import DEFAULT_EXPORT, all_rows, build_dataset, digest, per_type_slice

    if rows is None:
        rows = all_rows(build_dataset(export_path or DEFAULT_EXPORT))
    rows = per_type_slice(rows, limit)
    labels = list(schema().types)
    ids = [r["id"] for r in rows]
    texts = [r["text"] for r in rows]
    y = np.array([r["release_type"] for r in rows])
    split = np.array([r["split"] for r in rows])
    fit_mask = split != "test"
    review = load_review()
    runs = seeds(repeats)
    if only is not None and only not in SHIPPABLE:
        raise ValueError(f"unknown release-type candidate {only!r} (one of {', '.join(SHIPPABLE)})")

    tracking.setup(experiment, store)
    nested = mlflow.active_run() is not None
    with mlflow.start_run(run_name=f"release-type-{time.strftime('%Y%m%d-%H%M%S')}", nested=nested) as run:
        import datasets
        full = datasets.Dataset.from_list([{"id": r["id"], "text": r["text"], "release_type": r["release_type"],
                                            "split": r["split"]} for r in rows])
        mlflow.log_input(mlflow.data.from_huggingface(full, path=str(export_path or DEFAULT_EXPORT),
                                                      name="akorda-annotations"), context="training")
        data_digest = digest([{k: r[k] for k in ("id", "text", "release_type", "split")} for r in rows])
        mlflow.set_tags({"git_commit": tracking.git_commit(), "stage": "release_type", "data_digest": data_digest})
        mlflow.log_params({"folds": folds, "repeats": repeats, "seeds": ",".join(map(str, runs)),
                           "n_releases": len(rows), "seed": SEED, "fold_scheme": "training.folds (release id)",
                           "n_train_split": int((split == "train").sum()), "n_test_split": int((split == "test").sum()),
                           "labels": ",".join(labels), "before": BEFORE, "tie_tolerance": TIE_TOLERANCE,
                           "candidates": only or ",".join(SHIPPABLE)})
        table, preds = {}, {}
        # the transparent rule baseline has no parameters: its predictions are the same in every fold and repeat
        rule_pred = np.array([rule_type(t)[0] for t in texts])
        rule_m = evaluate.classification_metrics(y, rule_pred, labels)
        table["keyword_rules_lead"] = {"cv": summarize([rule_m] * len(runs), labels), "repeats": [rule_m] * len(runs),
                                       "test": evaluate.classification_metrics(y[~fit_mask], rule_pred[~fit_mask], labels)}
        preds["keyword_rules_lead"] = (rule_pred, None)
        inputs: dict = {}
        rep_preds: dict = {}
        models = {n: (type_input, f) for n, f in candidates().items() if only in (None, n)}
        if only is None:
            models = {**baselines(), **models}
        for name, (inp, factory) in models.items():
            if inp not in inputs:
                inputs[inp] = [inp(t) for t in texts]
            X = inputs[inp]
            t0 = time.time()
            reps, rep_preds[name] = [], []
            for i, s in enumerate(runs):
                pred, proba = _cv_once(factory, X, y, folds, s, ids)
                reps.append(evaluate.classification_metrics(y, pred, labels))
                rep_preds[name].append(pred)
                if i == 0:
                    preds[name] = (pred, proba)
            est = factory().fit([x for x, m in zip(X, fit_mask) if m], y[fit_mask])
            test_pred = est.predict([x for x, m in zip(X, ~fit_mask) if m])
            table[name] = {"cv": summarize(reps, labels), "repeats": reps,
                           "test": evaluate.classification_metrics(y[~fit_mask], test_pred, labels),
                           "seconds": round(time.time() - t0, 1)}
        for name, m in table.items():
            cv = m["cv"]
            mlflow.log_metrics({f"{name}.cv_accuracy": cv["accuracy"], f"{name}.cv_accuracy_std": cv["accuracy_std"],
                                f"{name}.cv_macro_f1": cv["macro_f1"], f"{name}.cv_macro_f1_std": cv["macro_f1_std"],
                                f"{name}.cv_min_class_f1": cv["min_class_f1"],
                                f"{name}.test_accuracy": m["test"]["accuracy"],
                                f"{name}.test_macro_f1": m["test"]["macro_f1"]})
            mlflow.log_metrics({f"{name}.cv_f1.{l}": v["f1"] for l, v in cv["per_class"].items()})
        ref = BEFORE if BEFORE in table else "keyword_rules_lead"
        paired = {}
        for name, m in table.items():
            d_f1 = np.array([a["macro_f1"] - b["macro_f1"] for a, b in zip(m["repeats"], table[ref]["repeats"])])
            d_acc = np.array([a["accuracy"] - b["accuracy"] for a, b in zip(m["repeats"], table[ref]["repeats"])])
            paired[name] = {"macro_f1": float(d_f1.mean()), "macro_f1_min": float(d_f1.min()),
                            "macro_f1_max": float(d_f1.max()), "accuracy": float(d_acc.mean()),
                            "accuracy_min": float(d_acc.min()), "accuracy_max": float(d_acc.max())}
        chosen = only or choose(table)
        cv_full = table[chosen]["cv"]
        growth = []
        if only is None:
            growth = learning_curve(candidates()[chosen], inputs[type_input], y, labels, folds, runs, ids) + [
                {"fraction": 1.0, "n_train": round(len(y) * (folds - 1) / folds),
                 **{k: cv_full[k] for k in ("macro_f1", "macro_f1_std", "accuracy", "accuracy_std", "min_class_f1")}}]
        for row in growth:
            mlflow.log_metrics({"curve_macro_f1": row["macro_f1"], "curve_accuracy": row["accuracy"],
                                "curve_min_class_f1": row["min_class_f1"]}, step=row["n_train"])
        pred, proba = preds[chosen]
        conf = proba.max(1)
        ece, curve = evaluate.expected_calibration_error(conf, pred == y)
        shipped = dict(table[chosen])
        shipped["ece"] = ece
        reviewed = review["reviewed"]
        families = {}
        for col, name in (("before", ref), ("after", chosen)):
            for fam, n in error_families(ids, y, preds[name][0], split, reviewed).items():
                families.setdefault(fam, {"before": 0, "after": 0})[col] = n
        mlflow.log_metrics({"cv_accuracy": shipped["cv"]["accuracy"], "cv_macro_f1": shipped["cv"]["macro_f1"],
                            "cv_accuracy_std": shipped["cv"]["accuracy_std"],
                            "cv_macro_f1_std": shipped["cv"]["macro_f1_std"],
                            "cv_min_class_f1": shipped["cv"]["min_class_f1"],
                            "test_accuracy": shipped["test"]["accuracy"], "test_macro_f1": shipped["test"]["macro_f1"],
                            "cv_ece": ece})
        for l, v in shipped["cv"]["per_class"].items():
            mlflow.log_metrics({f"cv_f1.{l}": v["f1"], f"cv_precision.{l}": v["precision"], f"cv_recall.{l}": v["recall"]})
        mlflow.log_metrics({f"errors_{col}.{fam.split()[0]}": n[col] for fam, n in families.items()
                            for col in ("before", "after")})
        mlflow.log_param("chosen", chosen)

        final = candidates()[chosen]().fit(inputs[type_input], y)
        result = Result(run.info.run_id, MODEL_NAME, "", chosen, table, shipped, data_digest, families, growth,
                        paired, len(runs), ref, folds, cv_pred_repeats=rep_preds[chosen])
        with tempfile.TemporaryDirectory() as td:
            d = Path(out_dir) if out_dir else Path(td)
            d.mkdir(parents=True, exist_ok=True)
            evaluate.write_json(d / "comparison.json", table)
            evaluate.write_json(d / "paired_vs_before.json", paired)
            evaluate.write_json(d / "error_families.json", families)
            evaluate.write_json(d / "learning_curve.json", growth)
            evaluate.write_json(d / "confusion_cv.json", shipped["cv"]["confusion"])
            evaluate.plot_confusion(shipped["cv"]["confusion"], d / "confusion_cv.png",
                                    f"{chosen} (CV, {len(runs)} repeats summed)")
            evaluate.write_json(d / "reliability_cv.json", {"ece": ece, "curve": curve})
            evaluate.plot_reliability(curve, ece, d / "reliability_cv.png", f"{chosen} (CV)")
            evaluate.write_json(d / "errors_cv.json", evaluate.error_list(ids, texts, y, pred, conf))
            mlflow.log_artifacts(str(d), artifact_path="evaluation")
            from . import export, report
            onx = export.onnx_from_sklearn(final, labels=list(final.classes_), metadata={"mlflow_run_id": run.info.run_id})
            result.manifest = export.log_model_dir(
                "release_type", onx, lambda p: export.check_parity(final, p, export.corpus_texts()), {
                    "kind": "text-classifier", "input": "type_input", "labels": [str(c) for c in final.classes_],
                    "mlflow_run_id": run.info.run_id, "training_data_digest": data_digest, "chosen": chosen,
                    "metrics": {k: v for k, v in mlflow.get_run(run.info.run_id).data.metrics.items()
                                if k in export.MANIFEST_METRICS["release_type"]},
                    "cv_repeats": len(runs), "cv_folds": folds, "cv_seeds": runs,
                }, generation, store, lambda: report.release_type_card(result))
            info = mlflow.sklearn.log_model(final, name="model", pip_requirements=tracking.PIP_REQUIREMENTS,
                                            skops_trusted_types=tracking.SKOPS_TRUSTED)
        if register:
            from .registry import register_version
            result.version = register_version(MODEL_NAME, info.model_uri, result.manifest, alias, {"chosen": chosen})
        return result
