"""Person keys measured (docs/analyst.md): ``python benchmarks/person_keys.py [CORPUS] [EXPORT]``.

1. Annotated truth: every SPEAKER/PERSON region of the committed export whose text is a name (not
   only a title) is keyed; its canonical name (the annotator's) is the person. A key holding two
   canonical persons is a false join; a canonical person under two keys is a split.
2. The corpus run: the people kzclassify finds in every release, grouped by person_id; every id
   written in more than one way is listed (the joins), and the surnames that kept several ids.
"""
from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kzclassify._persons import PersonIndex, is_name  # noqa: E402


def annotated_mentions(export: list) -> list[tuple[str, str]]:
    """(mention text, annotator's canonical name) of every SPEAKER/PERSON region whose text is a name."""
    out = []
    for task in export:
        for ann in task.get("annotations") or []:
            res = ann.get("result") or []
            canon = {r["id"]: " ".join(r["value"]["text"]) for r in res
                     if r.get("type") == "textarea" and r.get("from_name") == "canonical"}
            for r in res:
                if r.get("type") == "labels" and set(r["value"].get("labels", [])) & {"SPEAKER", "PERSON"}:
                    said, name = r["value"].get("text", ""), canon.get(r["id"], "")
                    if name and is_name(said):
                        out.append((said, name))
    return out


def truth_report(export: list) -> dict:
    pairs = annotated_mentions(export)
    ix = PersonIndex()
    for s, _ in pairs:
        ix.add(s)
    by_key, by_person = defaultdict(set), defaultdict(set)
    for s, n in pairs:
        by_key[ix.key(s)].add(n)
        by_person[n].add(ix.key(s))
    false_joins = {k: sorted(v) for k, v in by_key.items() if len(v) > 1}
    splits = {n: sorted(v) for n, v in by_person.items() if len(v) > 1}
    return {"mentions": len(pairs), "persons": len(by_person), "keys": len(by_key),
            "false_joins": false_joins, "splits": splits}


def corpus_report(corpus: Path) -> dict:
    import kzclassify
    from kzclassify.corpus import read_corpus
    ix = PersonIndex()
    for r in read_corpus(corpus):
        for p in kzclassify.analyze(r.text).people:
            ix.add(p.name)
    groups = ix.groups()
    joins = {ix.key(ns[0]): ns for ns in groups.values() if len(ns) > 1}
    by_surname = defaultdict(set)
    for k in (ix.key(n) for n in ix.names):
        by_surname[k.split("|")[0]].add(k)
    several = {s: sorted(ks) for s, ks in by_surname.items() if len(ks) > 1}
    return {"names": len(ix.names), "person_ids": len(groups), "joins": joins, "surnames_with_several_ids": several}


def main() -> None:
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "data" / "akorda_kk.txt"
    export = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "labeling" / "annotations" / "export.json"
    t = truth_report(json.loads(export.read_text(encoding="utf-8")))
    print(f"annotated: {t['mentions']} named mentions of {t['persons']} persons -> {t['keys']} keys; "
          f"false joins {len(t['false_joins'])}, split persons {len(t['splits'])}")
    for k, v in t["false_joins"].items():
        print(f"  FALSE JOIN {k}: {' / '.join(v)}")
    for n, v in t["splits"].items():
        print(f"  split {n}: {' / '.join(v)}")
    c = corpus_report(corpus)
    print(f"\ncorpus: {c['names']} distinct names written -> {c['person_ids']} person ids; "
          f"{len(c['joins'])} ids join several spellings:")
    for k, ns in c["joins"].items():
        print(f"  {k}: {' / '.join(ns)}")
    print(f"surnames under several ids ({len(c['surnames_with_several_ids'])}):")
    for s, ks in c["surnames_with_several_ids"].items():
        print(f"  {s}: {', '.join(ks)}")


if __name__ == "__main__":
    main()
