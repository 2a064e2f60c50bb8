"""Inter-annotator agreement and the pre-annotation → final report, from an export.

Both are computed from the Label Studio export alone: annotations carry
``completed_by`` and ``parent_prediction``, predictions carry their results.
"""
from __future__ import annotations

from collections import Counter

from .metrics import SpanCounts, cohen_kappa

from .ls_format import ResultError, from_results
from .validate import final_annotation


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
    for task in export:
        anns = [a for a in task.get("annotations") or []
                if not a.get("was_cancelled") and not a.get("ground_truth")]
        by_user = {}
        for a in sorted(anns, key=lambda a: a.get("id", 0)):
            by_user.setdefault(_user(a), a)
        if len(by_user) < 2:
            continue
        first, second = list(by_user.values())[:2]
        text = task["data"]["text"]
        try:
            x, y = from_results(first["result"], text), from_results(second["result"], text)
        except ResultError:
            continue
        n += 1
        a_types.append(x.release_type)
        b_types.append(y.release_type)
        per_type[(x.release_type, y.release_type)] += 1
        counts.add(text, _triples(x), _triples(y))
    s = counts.summary()
    return {
        "releases": n,
        "type_agreement": sum(p == q for p, q in zip(a_types, b_types)) / n if n else float("nan"),
        "type_kappa": cohen_kappa(a_types, b_types),
        "type_disagreements": {f"{p}→{q}": c for (p, q), c in per_type.items() if p != q},
        "quotes_a": s["gold_quotes"], "quotes_b": s["pred_quotes"],
        "quote_exact_f1": s["exact_f1"], "quote_token_f1": s["token_f1"],
        "speaker_agreement_exact": s["speaker_acc_exact"],
        "speaker_agreement_overlap": s["speaker_acc_overlap"],
    }


def prediction_report(export: list[dict]) -> dict:
    """How far the final annotations are from the predictions they started from."""
    out = Counter()
    for task in export:
        final, _ = final_annotation(task)
        if final is None:
            continue
        preds = {p["id"]: p for p in task.get("predictions") or [] if isinstance(p, dict)}
        pred = preds.get(final.get("parent_prediction"))
        if pred is None:
            # an adjudicated annotation starts from an annotator's work; use the first annotation's parent
            parents = [a.get("parent_prediction") for a in task.get("annotations") or [] if a.get("parent_prediction")]
            pred = preds.get(parents[0]) if parents else None
        if pred is None:
            out["no_linked_prediction"] += 1
            continue
        text = task["data"]["text"]
        f = from_results(final["result"], text)
        p = from_results(pred["result"], text)
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
        out["releases_unchanged"] += (f.release_type == p.release_type and fq == pq)
    return dict(out)


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
