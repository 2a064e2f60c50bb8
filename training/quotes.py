"""Stage 2 (quotes): train the quote → speaker ranker and evaluate the whole quote system
(rule detection + people stage + ranker + resolution) against the rule baseline and the previous ranker.

Evaluation is k-fold over releases (GroupKFold): the ranker never sees the
release it is scored on. Figures are by quote kind (dash / guillemet / telegram),
by error family (``quote_family``, tagged automatically on every annotated quote)
and on the untouched slice (the test-split releases, never read while writing rules).
"""
from __future__ import annotations

import json
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kzclassify._attribution import FEATURES, attribute, candidates_for, rule_scorer
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


def cross_validate(rows: list[dict], folds: int, attribute_fn=None, training_fn=None) -> dict[str, dict[str, SpanCounts]]:
    """5-fold over releases: the rule baseline and the ranker trained without the scored releases."""
    from sklearn.model_selection import GroupKFold
    X, y, groups = (training_fn or training_examples)(rows)
    out = {"rules": {k: SpanCounts() for k in GROUPS}, "ranker": {k: SpanCounts() for k in GROUPS}}
    for tr, te in GroupKFold(min(folds, len(rows))).split(np.arange(len(rows)), groups=np.arange(len(rows))):
        tr_set = set(tr.tolist())
        m = np.array([g in tr_set for g in groups])
        model = ranker().fit(X[m], y[m])
        test_rows = [rows[i] for i in te]
        for name, scorer in (("rules", rule_scorer), ("ranker", lambda x, model=model: model.predict_proba(x)[:, 1])):
            c = evaluate_rows(test_rows, scorer, attribute_fn)
            for k in c:
                _merge(out[name][k], c[k])
    return out


def train(export_path=None, store=None, folds: int = 5, limit: int | None = None, register: bool = True) -> Result:
    import mlflow

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
        sys_counts = cross_validate(rows, folds)
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
        with tempfile.TemporaryDirectory() as td:
            d = Path(td)
            evaluate.write_json(d / "quote_eval_cv.json", table)
            from .export import quote_onnx
            (d / "model.onnx").write_bytes(quote_onnx(final).SerializeToString())
            calibration = calibrate_quotes(rows, X, y, groups, folds, final, d)
            mlflow.log_artifacts(str(d), artifact_path="evaluation")
        info = mlflow.sklearn.log_model(final, name="model", pip_requirements=tracking.PIP_REQUIREMENTS)
        version = ""
        if register:
            mv = mlflow.register_model(info.model_uri, MODEL_NAME)
            version = str(mv.version)
            mlflow.MlflowClient().set_registered_model_alias(MODEL_NAME, "champion", mv.version)
        return Result(run.info.run_id, MODEL_NAME, version, chosen, table, data_digest, calibration)


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
