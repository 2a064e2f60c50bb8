"""Release type: what else was tried against the shipped candidate (``python -m training.release_type_ablation``).

Each variant changes one thing (the learner, a vectoriser setting, a block weight, or extra tokens
appended to ``type_input``) and is measured with the repeated stratified CV of ``training.release_type``
(same seeds, so the folds are the same and differences are paired). Variants are not shippable as they
stand: the extra tokens are built here, not in ``kzclassify``. The run is logged to MLflow (experiment
of the release type, run name ``release-type-ablation``) with one metric set per variant.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from kzclassify import Analyzer
from kzclassify._features import BODY_CHARS, _hits, lead_and_body, type_cues, type_input
from labeling.schema import schema

from . import evaluate, tracking
from .release_type import EXPERIMENT, _char, _cv_once, _structure, _svc, _word, candidates, seeds, summarize

REFERENCE = "tfidf_word_char3_svc"
# high-precision cues of the smaller classes, looked for in the whole body (where a stripped release names its event)
STRONG = {"award": ("марапатта", "орденімен", "медалімен", "атағы берілді", "наградала", "сыйлығын беру", "лауреат"),
          "ceremony": ("ант берді", "ант қабылда", "сенім грамота", "гүл шоқ", "гүл шоғ", "гүл қой", "рәсім"),
          "telegram": ("жеделхат", "хатында", "хат жолдады"),
          "phone_call": ("телефон арқылы", "телефонмен"),
          "other": ("жоспарлан", "сұхбат", "мақала", "қаулы етемін")}


def _bucket(n: int) -> str:
    return str(n) if n < 3 else "3-4" if n < 5 else "5+"


def _body_cues(text: str) -> str:
    body = lead_and_body(text)[1].lower()
    return " ".join(f"ms_{label}" for label, cues in STRONG.items() if any(c in body for c in cues))


def _whole_cues(text: str) -> str:
    low = text.lower()
    return " ".join(f"ka_{label}" for label, cues in type_cues() for _ in range(min(5, sum(low.count(c) for c in cues))))


def _no_lead_cue_body(text: str) -> str:
    """Strong body cues only when the lead has none of the guide's cues (the way a reader falls back on the body)."""
    return "" if _hits(lead_and_body(text)[0].lower()) else _body_cues(text)


def _people_tokens(analyzer: Analyzer):
    def tokens(text: str) -> str:
        a = analyzer.analyze(text)
        return (f"np_{_bucket(len(a.people))} nq_{_bucket(len(a.quotes))} "
                f"ns_{_bucket(len({q.speaker for q in a.quotes}))} " + " ".join(sorted({f"qk_{q.kind}" for q in a.quotes})))
    return tokens


def _long_body(text: str) -> str:
    body = lead_and_body(text)[1].lower()
    return body[BODY_CHARS:1500]


def variants() -> dict:
    """name → (extra-token function or None, factory). Extra tokens are appended to ``type_input``."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import VotingClassifier
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, make_pipeline
    from sklearn.svm import LinearSVC

    ref = candidates()[REFERENCE]

    def union(w=None, c=None, weights=None, extra=()):
        parts = [("word", _word() if w is None else w), ("char", _char(ngram_range=(3, 3)) if c is None else c),
                 *extra]
        return FeatureUnion(parts, transformer_weights=weights)

    def lead_words():
        return TfidfVectorizer(token_pattern=r"l_\w+", lowercase=False, min_df=2)

    def word(**kw):
        v = _word()
        return v.set_params(**kw)

    return {
        REFERENCE: (None, ref),
        "C=0.5": (None, lambda: make_pipeline(union(), _svc(0.5))),
        "C=2": (None, lambda: make_pipeline(union(), _svc(2.0))),
        "word unigrams": (None, lambda: make_pipeline(union(w=word(ngram_range=(1, 1))), _svc())),
        "binary tf": (None, lambda: make_pipeline(union(w=word(binary=True), c=_char(ngram_range=(3, 3)).set_params(
            binary=True)), _svc())),
        "char 3-5": (None, lambda: make_pipeline(union(c=_char(ngram_range=(3, 5))), _svc())),
        "no class weight": (None, lambda: make_pipeline(union(), CalibratedClassifierCV(
            LinearSVC(C=1.0, random_state=0), method="sigmoid", cv=3, ensemble=False))),
        "logistic regression C=50": (None, lambda: make_pipeline(union(), LogisticRegression(
            C=50, max_iter=5000, class_weight="balanced"))),
        "structure block ×0.5": (None, lambda: make_pipeline(union(
            weights={"word": 1, "char": 1, "s": 0.5}, extra=[("s", _structure())]), _svc())),
        "lead-word block ×0.5": (None, lambda: make_pipeline(union(
            weights={"word": 1, "char": 1, "l": 0.5}, extra=[("l", lead_words())]), _svc())),
        "soft vote with structure-only": (None, lambda: VotingClassifier(
            [("ref", ref()), ("s", make_pipeline(_structure(), _svc()))], voting="soft")),
        "+ strong body cues": (_body_cues, ref),
        "+ strong body cues if lead has none": (_no_lead_cue_body, ref),
        "+ whole-text cue counts": (_whole_cues, ref),
        "+ people/quote counts": ("people", ref),
        "+ body to 1500 chars": (_long_body, ref),
    }


def run(export_path=None, store=None, folds: int = 5, names: list[str] | None = None) -> dict:
    """Measure the variants; returns name → summary over the repeats (and the paired Δ to the reference)."""
    import mlflow

    from .data import DEFAULT_EXPORT, all_rows, build_dataset

    rows = all_rows(build_dataset(export_path or DEFAULT_EXPORT))
    labels = list(schema().types)
    texts = [r["text"] for r in rows]
    ids = [r["id"] for r in rows]
    y = np.array([r["release_type"] for r in rows])
    base = [type_input(t) for t in texts]
    chosen = {n: v for n, v in variants().items() if not names or n in names or n == REFERENCE}
    out = {}
    tracking.setup(EXPERIMENT, store)
    with mlflow.start_run(run_name="release-type-ablation"):
        mlflow.set_tags({"git_commit": tracking.git_commit(), "stage": "release_type_ablation"})
        mlflow.log_params({"folds": folds, "seeds": ",".join(map(str, seeds())), "reference": REFERENCE})
        for name, (extra, factory) in chosen.items():
            if extra == "people":
                extra = _people_tokens(Analyzer())
            X = base if extra is None else [f"{b} {extra(t)}" for b, t in zip(base, texts)]
            t0 = time.time()
            reps = [evaluate.classification_metrics(y, _cv_once(factory, X, y, folds, s, ids)[0], labels) for s in seeds()]
            summary = summarize(reps, labels)
            summary["repeats"] = [m["macro_f1"] for m in reps]
            summary["seconds"] = round(time.time() - t0, 1)
            out[name] = summary
            key = "".join(ch if ch.isalnum() else "_" for ch in name)
            mlflow.log_metrics({f"{key}.cv_macro_f1": summary["macro_f1"], f"{key}.cv_accuracy": summary["accuracy"],
                                f"{key}.cv_min_class_f1": summary["min_class_f1"]})
        for name, s in out.items():
            s["delta_macro_f1"] = [a - b for a, b in zip(s["repeats"], out[REFERENCE]["repeats"])]
        mlflow.log_dict({n: {k: v for k, v in s.items() if k != "confusion"} for n, s in out.items()},
                        "ablation.json")
    return out


def table(out: dict) -> str:
    lines = ["| variant | CV macro-F1 | CV accuracy | min class F1 | Δ macro-F1 vs shipped [min, max] |",
             "|---|---|---|---|---|"]
    for name, s in out.items():
        d = s["delta_macro_f1"]
        lines.append(f"| {name} | {s['macro_f1']:.3f} ± {s['macro_f1_std']:.3f} | {s['accuracy']:.3f} ± "
                     f"{s['accuracy_std']:.3f} | {s['min_class_f1']:.3f} | {np.mean(d):+.3f} [{min(d):+.3f}, {max(d):+.3f}] |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.release_type_ablation", description=__doc__.split("\n")[0])
    p.add_argument("--export", default=None)
    p.add_argument("--store", default=None)
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--only", nargs="*", default=None, help="variant names (the reference always runs)")
    a = p.parse_args(argv)
    unknown = sorted(set(a.only or ()) - set(variants()))
    if unknown:
        p.error(f"unknown variant(s) {', '.join(unknown)}; the variants are: {', '.join(variants())}")
    if a.folds < 2:
        p.error("--folds must be at least 2")
    print(table(run(a.export, a.store, a.folds, a.only)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
