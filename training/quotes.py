"""Stage 2 (quotes): train the quote → speaker ranker and evaluate the whole quote system
(rule detection + people stage + ranker + resolution) against the rule baseline and the previous ranker.

Evaluation is k-fold over releases (the folds of ``training.folds``, by release id, the same as the release-type
model's): the ranker never sees the release it is scored on. Figures are by quote kind (dash / guillemet / telegram),
by error family (``quote_family``, tagged automatically on every annotated quote)
and on the untouched slice (the test-split releases, never read while writing rules).
"""
from __future__ import annotations

import json
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kzclassify._attribution import FEATURES, attribute, candidates_for, rule_scorer
from kzclassify._quotes import find_quotes
from kzclassify._speakers import classify_mention

from . import evaluate, tracking
from labeling.metrics import SpanCounts

MODEL_NAME, EXPERIMENT = tracking.QUOTES_MODEL, tracking.QUOTES_EXPERIMENT
SEED = 0
KINDS = ("dash", "guillemet", "telegram")
# error families of the issue (speaker attribution), tagged automatically on every annotated quote
FAMILIES = ("name", "president_title", "role_to_person", "role_only", "citation", "letter_digest", "telegram")
_DIGEST = re.compile(r"хаттар\w*\s[^.]{0,80}келіп\s+түс|хат\s+иелері|хат\s+авторлары|хаттар\w*\s+легі")
_GENITIVE = re.compile(r"(ның|нің|тың|тің|дың|дің)$")
BEFORE = Path(__file__).resolve().parent / "baselines" / "quote_speaker_before.json"


def quote_family(text: str, q: dict, kind: str, digest: bool) -> str:
    """The error family of an annotated quote, from its gold mention and speaker (no reading needed).

    letter_digest: a quote of a letters digest not by a president; telegram: a telegram quote;
    citation: the speaker is named in the genitive right before the quote (someone reads out or cites
    another's words); president_title / role_to_person / role_only by the mention and the speaker; name otherwise.
    """
    mention, speaker = q["speaker_mention"], q["speaker"]
    person = any(w[:1].isupper() for w in speaker.split())
    mkind = classify_mention(mention) if mention else "none"
    if digest and mkind not in ("president", "first_president"):
        return "letter_digest"
    if kind == "telegram":
        return "telegram"
    if mention and _GENITIVE.search(mention) and 0 <= q["mention_end"] <= q["start"]:
        return "citation"
    if mkind in ("president", "first_president"):
        return "president_title"
    if mkind in ("role", "pronoun", "none"):
        return "role_to_person" if person and speaker != mention else "role_only"
    return "name"


@dataclass
class Result:
    run_id: str
    model_name: str
    version: str
    chosen: str
    table: dict  # system → kind ("all", "dash", ...) → metrics
    data_digest: str
    speaker_acc_repeats: list = field(default_factory=list)  # the ranker's CV speaker accuracy per repeat (seed)
    e2e_f1_repeats: list = field(default_factory=list)
    manifest: dict = field(default_factory=dict)  # the shipped folder's manifest (logged as model_dir/)


def ranker():
    from sklearn.linear_model import LogisticRegression
    return LogisticRegression(C=1.0, max_iter=2000)


def training_examples(rows: list[dict], candidates_fn=None):
    """(X, y, groups): candidate features, 1 if the candidate overlaps the gold mention,
    release index; only detected quotes whose span equals a gold quote are used."""
    X, y, g = [], [], []
    for i, r in enumerate(rows):
        text = r["text"]
        quotes = find_quotes(text)
        gold = {(q["start"], q["end"]): q for q in r["quotes"]}
        for q, cands in zip(quotes, (candidates_fn or candidates_for)(text, quotes)):
            gq = gold.get((q.start, q.end))
            if gq is None:
                continue
            labels = [candidate_label(text, c, gq) for c in cands]
            if any(c.source == "person" and l for c, l in zip(cands, labels)):
                # the gold speaker is a person proposed for the role: the role itself is not the answer
                labels = [0 if c.source == "tail" else l for c, l in zip(cands, labels)]
            for c, l in zip(cands, labels):
                X.append(c.features)
                y.append(l)
                g.append(i)
    return np.array(X, dtype=np.float32), np.array(y), np.array(g)


def candidate_label(text: str, c, gq: dict) -> int:
    """1 for the right candidate: a proposed person whose canonical name is the gold speaker,
    any other candidate that overlaps the gold speaker mention."""
    if getattr(c, "source", "") == "person":
        return int(text[c.start:c.end] and _person_name(text, c) == gq["speaker"])
    return int(c.start < gq["mention_end"] and gq["mention_start"] < c.end)


def _person_name(text: str, c) -> str:
    from kzclassify._speakers import people_of
    return people_of(text).persons[c.person].name


def _gold_kind(text: str, q: dict, detected: dict) -> str:
    d = detected.get((q["start"], q["end"]))
    if d is not None:
        return d
    return "guillemet" if q["start"] > 0 and text[q["start"] - 1] == "«" else "dash"


GROUPS = ("all",) + KINDS + tuple(f"family.{f}" for f in FAMILIES) + ("untouched",)


def evaluate_rows(rows: list[dict], scorer, attribute_fn=None) -> dict[str, SpanCounts]:
    """Quote and speaker counts by group: all, quote kind, error family (gold quotes; predicted quotes
    go to the family of the gold quote with the same span), and the untouched slice (test-split releases)."""
    from .data import split_of
    attribute_fn = attribute_fn or attribute
    counts = {k: SpanCounts() for k in GROUPS}
    for r in rows:
        text = r["text"]
        pred = attribute_fn(text, scorer)
        detected = {(p.start, p.end): p.kind for p in pred}
        digest = bool(_DIGEST.search(text))
        fam = {(q["start"], q["end"]): quote_family(text, q, _gold_kind(text, q, detected), digest) for q in r["quotes"]}
        for group in GROUPS:
            if group == "untouched" and split_of(r["id"]) != "test":
                continue
            if group.startswith("family."):
                f = group.split(".", 1)[1]
                gold = [(q["start"], q["end"], q["speaker"]) for q in r["quotes"] if fam[(q["start"], q["end"])] == f]
                pr = [(p.start, p.end, p.speaker) for p in pred if fam.get((p.start, p.end)) == f]
            else:
                gold = [(q["start"], q["end"], q["speaker"]) for q in r["quotes"]
                        if group in ("all", "untouched") or _gold_kind(text, q, detected) == group]
                pr = [(p.start, p.end, p.speaker) for p in pred if group in ("all", "untouched") or p.kind == group]
            counts[group].add(text, gold, pr)
    return counts


def cross_validate(rows: list[dict], folds: int, attribute_fn=None, training_fn=None, seed: int = SEED,
                   train_rows: list[dict] | None = None) -> dict[str, dict[str, SpanCounts]]:
    """k-fold over releases (``training.folds`` by release id and ``seed``): the rule baseline and the ranker
    trained without the scored releases. ``train_rows`` (default ``rows``) are the rows the ranker learns
    from in each fold (those whose release is outside the fold): the champion's own labels when it is
    re-scored on new ones."""
    from .folds import fold_ids
    train_rows = rows if train_rows is None else train_rows
    X, y, groups = (training_fn or training_examples)(train_rows)
    train_fold = fold_ids([r["id"] for r in train_rows], folds, seed)
    out = {"rules": {k: SpanCounts() for k in GROUPS}, "ranker": {k: SpanCounts() for k in GROUPS}}
    if folds < 2:
        raise ValueError(f"--folds must be at least 2 (got {folds})")
    test_fold = fold_ids([r["id"] for r in rows], folds, seed)
    for k in sorted(set(test_fold.tolist())):
        te = np.flatnonzero(test_fold == k)
        m = train_fold[groups] != k if len(groups) else np.zeros(0, dtype=bool)
        model = ranker().fit(X[m], y[m])
        test_rows = [rows[i] for i in te]
        for name, scorer in (("rules", rule_scorer), ("ranker", lambda x, model=model: model.predict_proba(x)[:, 1])):
            c = evaluate_rows(test_rows, scorer, attribute_fn)
            for group in c:
                _merge(out[name][group], c[group])
    return out


def speaker_accuracy(counts: dict[str, SpanCounts]) -> float:
    return counts["all"].summary()["speaker_acc_exact"]


def train(export_path=None, store=None, folds: int = 5, limit: int | None = None, register: bool = True, *,
          rows: list[dict] | None = None, repeats: int = 3, generation: int | None = None,
          experiment: str = EXPERIMENT, alias: str | None = None) -> Result:
    """Cross-validate the quote system (``repeats`` seeds of the id folds), fit the ranker on all rows, log the
    shipped folder (``model_dir/``) and register it (``alias`` set when given). ``rows`` replace the export."""
    import mlflow

    from .data import DEFAULT_EXPORT, all_rows, build_dataset, digest

    if rows is None:
        rows = all_rows(build_dataset(export_path or DEFAULT_EXPORT))
    if limit:
        rows = rows[:limit]
    runs = [SEED + i for i in range(repeats)]
    tracking.setup(experiment, store)
    nested = mlflow.active_run() is not None
    with mlflow.start_run(run_name=f"quote-speaker-{time.strftime('%Y%m%d-%H%M%S')}", nested=nested) as run:
        data_digest = digest([{k: r[k] for k in ("id", "text", "quotes")} for r in rows])
        import datasets
        mlflow.log_input(mlflow.data.from_huggingface(
            datasets.Dataset.from_list([{"id": r["id"], "text": r["text"], "n_quotes": len(r["quotes"])} for r in rows]),
            path=str(export_path or DEFAULT_EXPORT), name="akorda-annotations"), context="training")
        mlflow.set_tags({"git_commit": tracking.git_commit(), "stage": "quotes", "data_digest": data_digest})
        X, y, groups = training_examples(rows)
        mlflow.log_params({"folds": folds, "n_releases": len(rows), "n_candidates": len(y),
                           "n_positive": int(y.sum()), "features": ",".join(FEATURES), "seed": SEED,
                           "repeats": repeats, "seeds": ",".join(map(str, runs)),
                           "fold_scheme": "training.folds (release id)"})
        # cross-validated system evaluation: ranker trained without the scored releases; the table is the first
        # repeat's (the figures the card shows), the speaker accuracy of every repeat is kept for the gate
        per_repeat = [cross_validate(rows, folds, seed=s) for s in runs]
        sys_counts = per_repeat[0]
        table = {name: {k: v.summary() for k, v in by_kind.items()} for name, by_kind in sys_counts.items()}
        if BEFORE.exists() and not limit:  # the previous ranker, measured with its own code (see the file)
            table = {f"ranker-before ({json.loads(BEFORE.read_text())['commit'][:7]})": json.loads(BEFORE.read_text())["table"],
                     **table}
        for name, by_kind in table.items():
            safe = re.sub(r"[^\w.-]+", "_", name).strip("_")
            for kind, mets in by_kind.items():
                mlflow.log_metrics({f"{safe}.{kind}.{k}": float(v) for k, v in mets.items()
                                    if isinstance(v, (int, float)) and not np.isnan(v)})
        chosen = "ranker"
        final = ranker().fit(X, y)
        mlflow.log_metrics({"cv_quote_f1": table[chosen]["all"]["exact_f1"],
                            "cv_speaker_acc": table[chosen]["all"]["speaker_acc_exact"],
                            "cv_e2e_f1": table[chosen]["all"]["e2e_f1"],
                            "untouched_speaker_acc": table[chosen]["untouched"]["speaker_acc_exact"],
                            "untouched_e2e_f1": table[chosen]["untouched"]["e2e_f1"]})
        result = Result(run.info.run_id, MODEL_NAME, "", chosen, table, data_digest,
                        [speaker_accuracy(c["ranker"]) for c in per_repeat],
                        [c["ranker"]["all"].summary()["e2e_f1"] for c in per_repeat])
        with tempfile.TemporaryDirectory() as td:
            d = Path(td)
            evaluate.write_json(d / "quote_eval_cv.json", table)
            mlflow.log_artifacts(str(d), artifact_path="evaluation")
        from . import report
        from .export import MANIFEST_METRICS, corpus_texts, log_model_dir, quote_onnx, quote_parity
        m = mlflow.get_run(run.info.run_id).data.metrics
        result.manifest = log_model_dir(
            "quote_speaker", quote_onnx(final, {"mlflow_run_id": run.info.run_id}),
            lambda p: quote_parity(final, p, corpus_texts()), {
                "kind": "mention-ranker", "labels": ["other", "speaker"], "features": list(FEATURES),
                "mlflow_run_id": run.info.run_id, "training_data_digest": data_digest,
                "metrics": {k: m[k] for k in MANIFEST_METRICS["quote_speaker"] if k in m},
                "cv_repeats": repeats, "cv_folds": folds, "cv_seeds": runs,
            }, generation, store, lambda: report.quotes_card(result))
        info = mlflow.sklearn.log_model(final, name="model", pip_requirements=tracking.PIP_REQUIREMENTS)
        if register:
            from .registry import register_version
            result.version = register_version(MODEL_NAME, info.model_uri, result.manifest, alias)
        return result


def _merge(a: SpanCounts, b: SpanCounts) -> None:
    for f in a.__dataclass_fields__:
        setattr(a, f, getattr(a, f) + getattr(b, f))
