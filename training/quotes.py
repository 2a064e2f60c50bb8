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
from kzclassify._morphology import GENITIVE
from kzclassify._quotes import find_quotes
from kzclassify._speakers import classify_mention

from . import evaluate, tracking
from labeling.metrics import SpanCounts

MODEL_NAME, EXPERIMENT = tracking.QUOTES_MODEL, tracking.QUOTES_EXPERIMENT
SEED = 0
CAL_REPEATS = 5  # repeats of the k-fold over releases whose out-of-fold quotes fit the calibrators
KINDS = ("dash", "guillemet", "telegram")
# error families of the issue (speaker attribution), tagged automatically on every annotated quote
FAMILIES = ("name", "president_title", "role_to_person", "role_only", "citation", "letter_digest", "telegram")
_DIGEST = re.compile(r"хаттар\w*\s[^.]{0,80}келіп\s+түс|хат\s+иелері|хат\s+авторлары|хаттар\w*\s+легі")
BEFORE = Path(__file__).resolve().parent / "baselines" / "quote_speaker_before.json"
HOLDOUT = "ranker, fit on train+validation, test split"  # the table row of ``holdout``


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
    if mention and GENITIVE.search(mention) and 0 <= q["mention_end"] <= q["start"]:
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
    calibration: dict | None = None  # the speaker score's calibration and review figures


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
                   train_rows: list[dict] | None = None, lists_fn=None) -> dict[str, dict[str, SpanCounts]]:
    """k-fold over releases (``training.folds`` by release id and ``seed``): the rule baseline and the ranker
    trained without the scored releases. ``train_rows`` (default ``rows``) are the rows the ranker learns
    from in each fold (those whose release is outside the fold): the champion's own labels when it is
    re-scored on new ones. Inside each fold the name word lists are grown from the fold's training releases
    only (``lists_fn``, default ``gazetteer.fold_lists``: never the test split, never a scored release) and
    both the ranker's training examples and the scoring read them."""
    from .folds import fold_ids
    from .gazetteer import fold_lists, word_lists
    if folds < 2:
        raise ValueError(f"--folds must be at least 2 (got {folds})")
    lists_fn = lists_fn or fold_lists
    train_rows = rows if train_rows is None else train_rows
    train_fold = fold_ids([r["id"] for r in train_rows], folds, seed)
    test_fold = fold_ids([r["id"] for r in rows], folds, seed)
    out = {"rules": {k: SpanCounts() for k in GROUPS}, "ranker": {k: SpanCounts() for k in GROUPS}}
    for k in sorted(set(test_fold.tolist())):
        fit = [r for r, f in zip(train_rows, train_fold.tolist()) if f != k]
        test_rows = [rows[i] for i in np.flatnonzero(test_fold == k)]
        with word_lists(lists_fn(fit)):
            X, y, _ = (training_fn or training_examples)(fit)
            model = ranker().fit(X, y)
            for name, scorer in (("rules", rule_scorer), ("ranker", lambda x, model=model: model.predict_proba(x)[:, 1])):
                c = evaluate_rows(test_rows, scorer, attribute_fn)
                for group in c:
                    _merge(out[name][group], c[group])
    return out


def speaker_accuracy(counts: dict[str, SpanCounts]) -> float:
    return counts["all"].summary()["speaker_acc_exact"]


def holdout(rows: list[dict], attribute_fn=None) -> dict[str, SpanCounts]:
    """The untouched slice as a shipped model would meet it: word lists grown from and ranker fitted on
    the train and validation releases, scored on the test split."""
    from .data import split_of
    from .gazetteer import fold_lists, word_lists
    fit = [r for r in rows if split_of(r["id"]) != "test"]
    test = [r for r in rows if split_of(r["id"]) == "test"]
    with word_lists(fold_lists(fit)):
        X, y, _ = training_examples(fit)
        model = ranker().fit(X, y)
        return evaluate_rows(test, lambda x: model.predict_proba(x)[:, 1], attribute_fn)


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
        held = holdout(rows)
        if held["untouched"].gold:  # "all" and "untouched" are both the test split here
            table[HOLDOUT] = {k: v.summary() for k, v in held.items() if k in ("all", "untouched") or v.gold}
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
                            "untouched_e2e_f1": table[chosen]["untouched"]["e2e_f1"],
                            **({"holdout_speaker_acc": table[HOLDOUT]["all"]["speaker_acc_exact"],
                                "holdout_e2e_f1": table[HOLDOUT]["all"]["e2e_f1"]} if HOLDOUT in table else {})})
        result = Result(run.info.run_id, MODEL_NAME, "", chosen, table, data_digest,
                        [speaker_accuracy(c["ranker"]) for c in per_repeat],
                        [c["ranker"]["all"].summary()["e2e_f1"] for c in per_repeat])
        with tempfile.TemporaryDirectory() as td:
            d = Path(td)
            evaluate.write_json(d / "quote_eval_cv.json", table)
            calibration = calibrate_quotes(rows, X, y, groups, folds, final, d)
            result.calibration = calibration
            mlflow.log_artifacts(str(d), artifact_path="evaluation")
        from . import report
        from .export import MANIFEST_METRICS, corpus_texts, log_model_dir, quote_onnx, quote_parity
        m = mlflow.get_run(run.info.run_id).data.metrics
        result.manifest = log_model_dir(
            "quote_speaker", quote_onnx(final, {"mlflow_run_id": run.info.run_id}),
            lambda p, cal: quote_parity(final, p, corpus_texts(), cal), {
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


def quote_records(rows: list[dict], scorer, idx) -> tuple[list, list, list, list]:
    """(release index, raw score, speaker right, resolution path) of every quote found in ``rows[idx]``
    whose span is an annotated quote's."""
    out: tuple[list, list, list, list] = ([], [], [], [])
    for i in idx:
        gold = {(q["start"], q["end"]): q["speaker"] for q in rows[i]["quotes"]}
        for q in attribute(rows[i]["text"], scorer):
            if (q.start, q.end) in gold:
                for col, v in zip(out, (i, q.score, float(q.speaker == gold[(q.start, q.end)]), q.resolved_by)):
                    col.append(v)
    return out


def oof_records(rows: list[dict], X, y, groups, folds: int, repeats: int = CAL_REPEATS) -> list:
    """Out-of-fold quote records of ``repeats`` shuffled k-folds over releases (the ranker never saw them)."""
    from sklearn.model_selection import KFold

    from .calibrate import Records
    reps = []
    for r in range(repeats):
        cols: tuple[list, list, list, list] = ([], [], [], [])
        for tr, te in KFold(min(folds, len(rows)), shuffle=True, random_state=SEED + r).split(np.arange(len(rows))):
            m = np.isin(groups, tr)
            model = ranker().fit(X[m], y[m])
            for col, part in zip(cols, quote_records(rows, lambda x, model=model: model.predict_proba(x)[:, 1], te)):
                col.extend(part)
        reps.append(Records(np.array(cols[0]), np.array(cols[1], dtype=float), np.array(cols[2]),
                            np.array(cols[3], dtype=object)))
    return reps


def calibrate_quotes(rows: list[dict], X, y, groups, folds: int, final, d: Path) -> dict:
    """Fit the speaker calibrators (per resolution path) and the review threshold on repeated out-of-fold
    quotes; check the numpy form against sklearn on every quote of the corpus; artifacts into ``d``."""
    from kzclassify._calibration import DEFAULT_TARGETS
    from kzclassify.corpus import read_corpus
    from paths import CORPUS

    from . import calibrate
    out = calibrate.fit_all("quote_speaker", oof_records(rows, X, y, groups, folds), DEFAULT_TARGETS["quote_speaker"])
    scorer = lambda x: final.predict_proba(x)[:, 1]  # noqa: E731
    quotes = [q for r in read_corpus(CORPUS) for q in attribute(r.text, scorer) if q.resolved_by != "none"]
    out.data["parity"] = calibrate.parity(out.final, out.data, np.array([q.score for q in quotes], dtype=float),
                                          np.array([q.resolved_by for q in quotes], dtype=object))
    calibrate.plots(out, d, "speaker")
    calibrate.log(out)
    return calibrate.summary(out) | {"paths": sorted(out.data["paths"])}
