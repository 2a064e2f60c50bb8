"""PERSON mention precision on 30 releases read by the guide: before (the people stage's every mention, full
layer), after (Analysis.people through kzclassify/_person_layer.py), full and default (labeling --persons) layers.

The releases are a seeded random sample of the corpus's distinct releases; the judgements, one per mention,
are in labeling/annotations/person_precision.json (a measurement, not training data): "person" = the span
names a person and the canonical name is that person's; "wrong_name" = a person, under a wrong canonical
name; "not_a_person" = an organisation, an office, a country, a fragment, a title of someone else.

    python benchmarks/person_precision.py [--seed 26] # the figures, from the committed judgements
    python benchmarks/person_precision.py --refresh  # re-derive the layers (after a change); new mentions
                                                     # come out as "unjudged" and must be read and judged
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kzclassify._people import People  # noqa: E402
from kzclassify.corpus import read_releases  # noqa: E402
from labeling.ls_format import to_results  # noqa: E402
from labeling.tasks import Predictor  # noqa: E402
from paths import CORPUS  # noqa: E402

OUT = ROOT / "labeling" / "annotations" / "person_precision.json"
# seed 25: the first sample (read before the last rule changes: its "after" figures are not held out);
# seed 26: a second sample, other releases, read after the rules were final (held out)
FILES = {25: OUT, 26: OUT.with_name("person_precision_heldout.json")}
N = 30
LAYERS = ("before", "after_all", "after_default")


def _regions(results) -> dict[tuple[int, int], str]:
    canon = {x["id"]: x["value"]["text"][0] for x in results if x.get("from_name") == "canonical"}
    return {(x["value"]["start"], x["value"]["end"]): canon.get(x["id"], "") for x in results
            if x["type"] == "labels" and x["value"]["labels"] == ["PERSON"]}


def layers_of(text: str, predictor: Predictor) -> dict[str, dict[tuple[int, int], str]]:
    a = predictor.analyze(text)
    old = replace(a, people=tuple(People(text).persons))  # what Analysis.people held before the filter
    return {"before": _regions(to_results(old, persons="all")), "after_all": _regions(to_results(a, persons="all")),
            "after_default": _regions(to_results(a, persons="quotes"))}


def sample(seed: int):
    """N releases drawn with ``seed`` from the distinct releases (a later seed's sample leaves out the
    releases of the earlier seeds)."""
    seen, rels = set(), []
    for r in read_releases(CORPUS):
        if r.id not in seen:
            seen.add(r.id)
            rels.append(r)
    taken: set[str] = set()
    for earlier in sorted(k for k in FILES if k < seed):
        taken |= {r.id for r in random.Random(earlier).sample(rels, N)}
    return random.Random(seed).sample([r for r in rels if r.id not in taken], N)


def refresh(old: dict, seed: int) -> dict:
    judged = {(r["release_id"], m["start"], m["end"]): m for r in old.get("releases", []) for m in r["mentions"]}
    predictor = Predictor("model")
    out = []
    for r in sample(seed):
        ls = layers_of(r.text, predictor)
        mentions = []
        for s, e in sorted(set().union(*map(set, ls.values()))):
            prev = judged.get((r.id, s, e), {})
            mentions.append({"start": s, "end": e, "text": r.text[s:e],
                             "canonical": {k: v[(s, e)] for k, v in ls.items() if (s, e) in v},
                             "context": r.text[max(0, s - 60):s] + "⟦" + r.text[s:e] + "⟧" + r.text[e:e + 40],
                             "judgement": prev.get("judgement", "unjudged"),
                             **({"note": prev["note"]} if "note" in prev else {})})
        out.append({"release_id": r.id, "first_line": r.text.splitlines()[0][:100], "mentions": mentions})
    return {**{k: v for k, v in old.items() if k != "releases"}, "releases": out}


def figures(data: dict) -> dict:
    res = {}
    for layer in LAYERS:
        ms = [(m, m["canonical"][layer]) for r in data["releases"] for m in r["mentions"] if layer in m["canonical"]]
        per_task = [sum(layer in m["canonical"] for m in r["mentions"]) for r in data["releases"]]
        n = len(ms)
        ok = sum(m["judgement"] == "person" for m, _ in ms)
        span_ok = sum(m["judgement"] in ("person", "wrong_name") for m, _ in ms)
        res[layer] = {"mentions": n, "person": ok, "unjudged": sum(m["judgement"] == "unjudged" for m, _ in ms),
                      "precision": round(ok / n, 3) if n else None,
                      "precision_span_only": round(span_ok / n, 3) if n else None,
                      "per_task_median": statistics.median(per_task), "per_task_max": max(per_task)}
    return res


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--refresh", action="store_true", help="re-derive the layers from the current code")
    p.add_argument("--seed", type=int, choices=sorted(FILES), default=25, help="which sample")
    args = p.parse_args()
    out = FILES[args.seed]
    data = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    if args.refresh or not data:
        data = refresh(data, args.seed)
        data["figures"] = figures(data)
        out.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"sample seed {args.seed}: {out.relative_to(ROOT)}")
    for layer, f in figures(data).items():
        print(f"{layer:14s} {f['mentions']:4d} mentions, {f['person']:4d} person → precision {f['precision']} "
              f"(span only {f['precision_span_only']}); per task median {f['per_task_median']}, max {f['per_task_max']}"
              + (f"; {f['unjudged']} UNJUDGED" if f["unjudged"] else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
