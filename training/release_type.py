"""Stage 2 (release type): compare baselines in one run, train the shipped model, log to MLflow.

Every candidate is measured with the same stratified k-fold over distinct
releases and on the fixed split of ``training.data``.
"""
from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kzclassify._features import type_input
from kzclassify._rules import rule_type
from labeling.schema import schema

from . import evaluate, tracking

MODEL_NAME, EXPERIMENT = tracking.RELEASE_TYPE_MODEL, tracking.RELEASE_TYPE_EXPERIMENT
SEED = 0


def _word(max_features=20000):
    from sklearn.feature_extraction.text import TfidfVectorizer
    # \w{2,} in Python equals [\p{L}\p{N}_]{2,} in the ONNX tokenizer (tokenexp) on this corpus
    # sublinear_tf stays off: skl2onnx silently ignores it (parity broke by 3e-3)
    return TfidfVectorizer(token_pattern=r"\w{2,}", lowercase=False, ngram_range=(1, 2), min_df=2,
                           sublinear_tf=False, max_features=max_features)


def _char(max_features=30000):
    from sklearn.feature_extraction.text import TfidfVectorizer
    return TfidfVectorizer(analyzer="char", lowercase=False, ngram_range=(2, 4), min_df=2,
                           sublinear_tf=False, max_features=max_features)


def candidates() -> dict:
    """name → factory of an unfitted sklearn estimator that reads ``type_input`` strings."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.svm import LinearSVC

    def svc():
        return CalibratedClassifierCV(LinearSVC(C=1.0, class_weight="balanced", random_state=SEED),
                                      method="sigmoid", cv=3, ensemble=False)

    return {
        "majority": lambda: DummyClassifier(strategy="most_frequent"),
        "tfidf_word_lr": lambda: make_pipeline(_word(), LogisticRegression(C=20, max_iter=5000, class_weight="balanced")),
        "tfidf_char_svc": lambda: make_pipeline(_char(), svc()),
        "tfidf_word_char_lr": lambda: make_pipeline(make_union(_word(), _char()),
                                                    LogisticRegression(C=20, max_iter=5000, class_weight="balanced")),
        "tfidf_word_char_svc": lambda: make_pipeline(make_union(_word(), _char()), svc()),
    }


SHIPPABLE = ("tfidf_word_lr", "tfidf_char_svc", "tfidf_word_char_lr", "tfidf_word_char_svc")


@dataclass
class Result:
    run_id: str
    model_name: str
    version: str
    chosen: str
    table: dict  # candidate → {"cv": metrics, "test": metrics}
    shipped: dict  # metrics of the shipped model
    data_digest: str


def _cv(factory, X, y, labels, folds):
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    cv = StratifiedKFold(folds, shuffle=True, random_state=SEED)
    est = factory()
    if hasattr(est, "predict_proba"):
        proba = cross_val_predict(est, X, y, cv=cv, method="predict_proba")
        classes = sorted(set(y))
        pred = np.array(classes)[proba.argmax(1)]
        return pred, proba, classes
    return cross_val_predict(est, X, y, cv=cv), None, None


def train(export_path=None, store=None, folds: int = 5, out_dir: str | Path | None = None,
          limit: int | None = None, register: bool = True) -> Result:
    """Run the comparison, fit the best shippable candidate on all data, log and register it.

    ``limit`` keeps at most N releases per type (for tests); ``store`` is the MLflow store dir.
    """
    import mlflow

    from .data import DEFAULT_EXPORT, all_rows, build_dataset, digest, per_type_slice

    rows = per_type_slice(all_rows(build_dataset(export_path or DEFAULT_EXPORT)), limit)
    labels = list(schema().types)
    ids = [r["id"] for r in rows]
    texts = [r["text"] for r in rows]
    X = [type_input(t) for t in texts]
    y = np.array([r["release_type"] for r in rows])
    split = np.array([r["split"] for r in rows])
    fit_mask = split != "test"

    tracking.setup(EXPERIMENT, store)
    with mlflow.start_run(run_name=f"release-type-{time.strftime('%Y%m%d-%H%M%S')}") as run:
        import datasets
        full = datasets.Dataset.from_list([{"id": r["id"], "text": r["text"], "release_type": r["release_type"],
                                            "split": r["split"]} for r in rows])
        mlflow.log_input(mlflow.data.from_huggingface(full, path=str(export_path or DEFAULT_EXPORT),
                                                      name="akorda-annotations"), context="training")
        data_digest = digest([{k: r[k] for k in ("id", "text", "release_type", "split")} for r in rows])
        mlflow.set_tags({"git_commit": tracking.git_commit(), "stage": "release_type", "data_digest": data_digest})
        mlflow.log_params({"folds": folds, "n_releases": len(rows), "seed": SEED,
                           "n_train_split": int((split == "train").sum()), "n_test_split": int((split == "test").sum()),
                           "labels": ",".join(labels)})
        table = {}
        # the transparent rule baseline has no parameters: its predictions are the same in every fold
        rule_pred = np.array([rule_type(t)[0] for t in texts])
        table["keyword_rules_lead"] = {"cv": evaluate.classification_metrics(y, rule_pred, labels),
                                       "test": evaluate.classification_metrics(y[~fit_mask], rule_pred[~fit_mask], labels)}
        probas = {}
        for name, factory in candidates().items():
            t0 = time.time()
            pred, proba, classes = _cv(factory, X, y, labels, folds)
            est = factory().fit([x for x, m in zip(X, fit_mask) if m], y[fit_mask])
            test_pred = est.predict([x for x, m in zip(X, ~fit_mask) if m])
            table[name] = {"cv": evaluate.classification_metrics(y, pred, labels),
                           "test": evaluate.classification_metrics(y[~fit_mask], test_pred, labels),
                           "seconds": round(time.time() - t0, 1)}
            probas[name] = (pred, proba, classes)
        for name, m in table.items():
            mlflow.log_metrics({f"{name}.cv_accuracy": m["cv"]["accuracy"], f"{name}.cv_macro_f1": m["cv"]["macro_f1"],
                                f"{name}.test_accuracy": m["test"]["accuracy"],
                                f"{name}.test_macro_f1": m["test"]["macro_f1"]})
        chosen = max(SHIPPABLE, key=lambda n: (table[n]["cv"]["macro_f1"], table[n]["cv"]["accuracy"]))
        pred, proba, classes = probas[chosen]
        conf = proba.max(1)
        ece, curve = evaluate.expected_calibration_error(conf, pred == y)
        shipped = dict(table[chosen])
        shipped["ece"] = ece
        mlflow.log_metrics({"cv_accuracy": shipped["cv"]["accuracy"], "cv_macro_f1": shipped["cv"]["macro_f1"],
                            "test_accuracy": shipped["test"]["accuracy"], "test_macro_f1": shipped["test"]["macro_f1"],
                            "cv_ece": ece})
        for l, v in shipped["cv"]["per_class"].items():
            mlflow.log_metrics({f"cv_f1.{l}": v["f1"], f"cv_precision.{l}": v["precision"], f"cv_recall.{l}": v["recall"]})
        mlflow.log_param("chosen", chosen)

        final = candidates()[chosen]().fit(X, y)
        with tempfile.TemporaryDirectory() as td:
            d = Path(out_dir) if out_dir else Path(td)
            d.mkdir(parents=True, exist_ok=True)
            evaluate.write_json(d / "comparison.json", table)
            evaluate.write_json(d / "confusion_cv.json", shipped["cv"]["confusion"])
            evaluate.plot_confusion(shipped["cv"]["confusion"], d / "confusion_cv.png", f"{chosen} (CV)")
            evaluate.write_json(d / "reliability_cv.json", {"ece": ece, "curve": curve})
            evaluate.plot_reliability(curve, ece, d / "reliability_cv.png", f"{chosen} (CV)")
            evaluate.write_json(d / "errors_cv.json", evaluate.error_list(ids, texts, y, pred, conf))
            from .export import onnx_from_sklearn, check_parity
            onx = onnx_from_sklearn(final, labels=list(final.classes_))
            (d / "model.onnx").write_bytes(onx.SerializeToString())
            parity = check_parity(final, d / "model.onnx", texts)
            evaluate.write_json(d / "parity.json", parity)
            mlflow.log_metrics({"parity_max_abs_diff": parity["max_abs_diff"],
                                "parity_label_mismatches": parity["label_mismatches"]})
            mlflow.log_artifacts(str(d), artifact_path="evaluation")
            info = mlflow.sklearn.log_model(final, name="model", pip_requirements=tracking.PIP_REQUIREMENTS,
                                            skops_trusted_types=tracking.SKOPS_TRUSTED)
        version = ""
        if register:
            mv = mlflow.register_model(info.model_uri, MODEL_NAME, tags={"chosen": chosen})
            version = str(mv.version)
            client = mlflow.MlflowClient()
            client.set_registered_model_alias(MODEL_NAME, "champion", mv.version)
        return Result(run.info.run_id, MODEL_NAME, version, chosen, table, shipped, data_digest)
