"""Inter-annotator agreement and the pre-annotation → final report, from an export.

Both are computed from the Label Studio export alone: annotations carry
``completed_by`` and ``parent_prediction``, predictions carry their results.
"""
from __future__ import annotations

import math
from collections import Counter

from .metrics import SpanCounts, cohen_kappa

from .ls_format import ResultError
from .validate import decode, final_annotation


def _tasks(export) -> list[tuple[str, dict, str]]:
    """(task id, task, text) for every task with a text; ValueError for an export that is not a list."""
    if not isinstance(export, list):
        raise ValueError(f"export is a {type(export).__name__}, expected a list of tasks")
    out = []
    for pos, task in enumerate(export):
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            continue  # `validate` reports these
        text = task["data"].get("text")
        if isinstance(text, str):
            out.append((str(task.get("id", f"#{pos}")), task, text))
    return out


def _annotations(task: dict) -> list[dict]:
    anns = task.get("annotations")
    return [a for a in anns if isinstance(a, dict)] if isinstance(anns, list) else []


def _finite(x):
    """JSON has no NaN: an undefined figure (no doubly annotated release) is null."""
    return None if isinstance(x, float) and not math.isfinite(x) else x


def _user(a: dict):
    u = a.get("completed_by")
    return u.get("email", u.get("id")) if isinstance(u, dict) else u


def _triples(ann) -> list[tuple[int, int, str]]:
    return [(q.start, q.end, q.speaker) for q in ann.quotes]


def agreement(export: list[dict]) -> dict:
    """Agreement between the first two independent annotations of each doubly annotated task.

    The adjudicated annotation (``ground_truth``) is not one of the two.
    """
    a_types, b_types, per_type = [], [], Counter()
    counts = SpanCounts()
    n = 0
    problems: list[str] = []
    for tid, task, text in _tasks(export):
        anns = [a for a in _annotations(task) if not a.get("was_cancelled") and not a.get("ground_truth")]
        by_user = {}
        for a in sorted(anns, key=lambda a: a.get("id") if isinstance(a.get("id"), int) else 0):
            by_user.setdefault(str(_user(a)), a)
        if len(by_user) < 2:
            continue
        first, second = list(by_user.values())[:2]
        try:
            x, y = decode(first.get("result"), text), decode(second.get("result"), text)
        except ResultError as e:
            problems.append(f"task {tid}: {e}")
            continue
        n += 1
        a_types.append(x.release_type)
        b_types.append(y.release_type)
        per_type[(x.release_type, y.release_type)] += 1
        counts.add(text, _triples(x), _triples(y))
    s = {k: _finite(v) for k, v in counts.summary().items()}
    return {
        "releases": n,
        "type_agreement": sum(p == q for p, q in zip(a_types, b_types)) / n if n else None,
        "type_kappa": _finite(cohen_kappa(a_types, b_types)),
        "type_disagreements": {f"{p}→{q}": c for (p, q), c in per_type.items() if p != q},
        "quotes_a": s["gold_quotes"], "quotes_b": s["pred_quotes"],
        "quote_exact_f1": s["exact_f1"], "quote_token_f1": s["token_f1"],
        "speaker_agreement_exact": s["speaker_acc_exact"],
        "speaker_agreement_overlap": s["speaker_acc_overlap"],
        "problems": problems,  # doubly annotated tasks left out, with why
    }


def prediction_report(export: list[dict]) -> dict:
    """How far the final annotations are from the predictions they started from: the type, the quotes
    (kept, added, removed, re-attributed) and the named spans, SPEAKER and PERSON (``mentions_*``:
    added, removed, renamed = the canonical name changed; ``person_regions_*``: PERSON regions only).
    A release is unchanged only if all three are."""
    out = Counter()
    problems: list[str] = []
    for tid, task, text in _tasks(export):
        final, _ = final_annotation(task)
        if final is None:
            continue
        preds = task.get("predictions") if isinstance(task.get("predictions"), list) else []
        preds = {str(p.get("id")): p for p in preds if isinstance(p, dict)}
        pred = preds.get(str(final.get("parent_prediction")))
        if pred is None:
            # an adjudicated annotation starts from an annotator's work; use the first annotation's parent
            parents = [a.get("parent_prediction") for a in _annotations(task) if a.get("parent_prediction")]
            pred = preds.get(str(parents[0])) if parents else None
        if pred is None:
            out["no_linked_prediction"] += 1
            continue
        try:
            f = decode(final.get("result"), text)
        except ResultError as e:
            problems.append(f"task {tid}: annotation: {e}")
            continue
        try:
            p = decode(pred.get("result"), text)
        except ResultError as e:
            problems.append(f"task {tid}: prediction {pred.get('id')}: {e}")
            continue
        out["releases"] += 1
        out["type_changed"] += f.release_type != p.release_type
        fq = {(q.start, q.end): q.speaker for q in f.quotes}
        pq = {(q.start, q.end): q.speaker for q in p.quotes}
        out["quotes_final"] += len(fq)
        out["quotes_predicted"] += len(pq)
        out["quotes_kept_exact"] += len(fq.keys() & pq.keys())
        out["quotes_added"] += len(fq.keys() - pq.keys())
        out["quotes_removed"] += len(pq.keys() - fq.keys())
        out["quotes_reattributed"] += sum(fq[k] != pq[k] for k in fq.keys() & pq.keys())
        # every named span (SPEAKER and PERSON regions) with its canonical name
        fm, pm = _named_spans(f), _named_spans(p)
        both = fm.keys() & pm.keys()
        out["mentions_final"] += len(fm)
        out["mentions_predicted"] += len(pm)
        out["mentions_added"] += len(fm.keys() - pm.keys())
        out["mentions_removed"] += len(pm.keys() - fm.keys())
        out["mentions_renamed"] += sum(fm[k] != pm[k] for k in both)
        out["person_regions_added"] += len(fm.keys() - pm.keys() - _speaker_spans(f))
        out["person_regions_removed"] += len(pm.keys() - fm.keys() - _speaker_spans(p))
        out["releases_unchanged"] += (f.release_type == p.release_type and fq == pq and fm == pm)
    return {**out, "problems": problems}  # tasks left out, with why


def _named_spans(ann) -> dict[tuple[int, int], str]:
    """(start, end) → canonical name of every SPEAKER and PERSON span of an annotation."""
    return {(s, e): p.name for p in ann.analysis.people for s, e, _ in p.mentions}


def _speaker_spans(ann) -> set[tuple[int, int]]:
    """The spans of an annotation's SPEAKER regions."""
    return {(q.mention_start, q.mention_end) for q in ann.quotes}


def dataset_stats(export: list[dict]) -> dict:
    """Counts of the final annotations: releases per type, quotes, distinct speakers."""
    from .validate import validate_export
    rep = validate_export(export)
    types = Counter(a.release_type for a in rep.releases.values())
    speakers = Counter(q.speaker for a in rep.releases.values() for q in a.quotes)
    return {
        "releases": len(rep.releases),
        "per_type": dict(types.most_common()),
        "quotes": sum(speakers.values()),
        "releases_with_quotes": sum(1 for a in rep.releases.values() if a.quotes),
        "distinct_speakers": len(speakers),
        "top_speakers": dict(speakers.most_common(5)),
        "notes": sum(1 for a in rep.releases.values() if a.note),
        "problems": len(rep.problems),
    }
