"""Stage 2 (quotes): train the quote → speaker-mention ranker and evaluate the whole
quote system (rule detection + ranker + canonical resolution) against the rule baseline.

Evaluation is k-fold over releases (GroupKFold): the ranker never sees the
release it is scored on. Figures are by quote kind (dash / guillemet / telegram).
"""
from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kzclassify._attribution import FEATURES, attribute, candidates_for, rule_scorer
from kzclassify._quotes import find_quotes

from . import evaluate, tracking
from labeling.metrics import SpanCounts

MODEL_NAME, EXPERIMENT = tracking.QUOTES_MODEL, tracking.QUOTES_EXPERIMENT
SEED = 0
KINDS = ("dash", "guillemet", "telegram")


@dataclass
class Result:
    run_id: str
    model_name: str
    version: str
    chosen: str
    table: dict  # system → kind ("all", "dash", ...) → metrics
    data_digest: str


def ranker():
    from sklearn.linear_model import LogisticRegression
    return LogisticRegression(C=1.0, max_iter=2000)


def training_examples(rows: list[dict]):
    """(X, y, groups): candidate features, 1 if the candidate overlaps the gold mention,
    release index; only detected quotes whose span equals a gold quote are used."""
    X, y, g = [], [], []
    for i, r in enumerate(rows):
        text = r["text"]
        quotes = find_quotes(text)
        gold = {(q["start"], q["end"]): q for q in r["quotes"]}
        for q, cands in zip(quotes, candidates_for(text, quotes)):
            gq = gold.get((q.start, q.end))
            if gq is None:
                continue
            for c in cands:
                X.append(c.features)
                y.append(int(c.start < gq["mention_end"] and gq["mention_start"] < c.end))
                g.append(i)
    return np.array(X, dtype=np.float32), np.array(y), np.array(g)


def _gold_kind(text: str, q: dict, detected: dict) -> str:
    d = detected.get((q["start"], q["end"]))
    if d is not None:
        return d
    return "guillemet" if q["start"] > 0 and text[q["start"] - 1] == "«" else "dash"


def evaluate_rows(rows: list[dict], scorer) -> dict[str, SpanCounts]:
    counts = {k: SpanCounts() for k in ("all",) + KINDS}
    for r in rows:
        text = r["text"]
        pred = attribute(text, scorer)
        detected = {(p.start, p.end): p.kind for p in pred}
        for kind in ("all",) + KINDS:
            gold = [(q["start"], q["end"], q["speaker"]) for q in r["quotes"]
                    if kind == "all" or _gold_kind(text, q, detected) == kind]
            pr = [(p.start, p.end, p.speaker) for p in pred if kind == "all" or p.kind == kind]
            counts[kind].add(text, gold, pr)
    return counts


def train(export_path=None, store=None, folds: int = 5, limit: int | None = None, register: bool = True) -> Result:
    import mlflow
    from sklearn.model_selection import GroupKFold

    from .data import DEFAULT_EXPORT, all_rows, build_dataset, digest

    rows = all_rows(build_dataset(export_path or DEFAULT_EXPORT))
    if limit:
        rows = rows[:limit]
    tracking.setup(EXPERIMENT, store)
    with mlflow.start_run(run_name=f"quote-speaker-{time.strftime('%Y%m%d-%H%M%S')}") as run:
        data_digest = digest([{k: r[k] for k in ("id", "text", "quotes")} for r in rows])
        import datasets
        mlflow.log_input(mlflow.data.from_huggingface(
            datasets.Dataset.from_list([{"id": r["id"], "text": r["text"], "n_quotes": len(r["quotes"])} for r in rows]),
            path=str(export_path or DEFAULT_EXPORT), name="akorda-annotations"), context="training")
        mlflow.set_tags({"git_commit": tracking.git_commit(), "stage": "quotes", "data_digest": data_digest})
        X, y, groups = training_examples(rows)
        mlflow.log_params({"folds": folds, "n_releases": len(rows), "n_candidates": len(y),
                           "n_positive": int(y.sum()), "features": ",".join(FEATURES), "seed": SEED})
        # cross-validated system evaluation: ranker trained without the scored releases
        sys_counts = {"rules": {k: SpanCounts() for k in ("all",) + KINDS},
                      "ranker": {k: SpanCounts() for k in ("all",) + KINDS}}
        n_splits = min(folds, len(rows))
        for tr, te in GroupKFold(n_splits).split(np.arange(len(rows)), groups=np.arange(len(rows))):
            tr_set = set(tr.tolist())
            m = np.array([g in tr_set for g in groups])
            model = ranker().fit(X[m], y[m])
            test_rows = [rows[i] for i in te]
            for name, scorer in (("rules", rule_scorer), ("ranker", lambda x, model=model: model.predict_proba(x)[:, 1])):
                c = evaluate_rows(test_rows, scorer)
                for k in c:
                    _merge(sys_counts[name][k], c[k])
        table = {name: {k: v.summary() for k, v in by_kind.items()} for name, by_kind in sys_counts.items()}
        for name, by_kind in table.items():
            for kind, mets in by_kind.items():
                mlflow.log_metrics({f"{name}.{kind}.{k}": float(v) for k, v in mets.items()
                                    if isinstance(v, float) and not np.isnan(v)})
        chosen = "ranker"
        final = ranker().fit(X, y)
        mlflow.log_metrics({"cv_quote_f1": table[chosen]["all"]["exact_f1"],
                            "cv_speaker_acc": table[chosen]["all"]["speaker_acc_exact"],
                            "cv_e2e_f1": table[chosen]["all"]["e2e_f1"]})
        with tempfile.TemporaryDirectory() as td:
            d = Path(td)
            evaluate.write_json(d / "quote_eval_cv.json", table)
            from .export import quote_onnx
            (d / "model.onnx").write_bytes(quote_onnx(final).SerializeToString())
            mlflow.log_artifacts(str(d), artifact_path="evaluation")
        info = mlflow.sklearn.log_model(final, name="model", pip_requirements=tracking.PIP_REQUIREMENTS)
        version = ""
        if register:
            mv = mlflow.register_model(info.model_uri, MODEL_NAME)
            version = str(mv.version)
            mlflow.MlflowClient().set_registered_model_alias(MODEL_NAME, "champion", mv.version)
        return Result(run.info.run_id, MODEL_NAME, version, chosen, table, data_digest)


def _merge(a: SpanCounts, b: SpanCounts) -> None:
    for f in a.__dataclass_fields__:
        setattr(a, f, getattr(a, f) + getattr(b, f))
