"""``python -m training simulate``: the loop's value, replayed on the annotated releases.

Held out: the fixed validation and test splits of ``training.data`` (by release id; about 30 % of the releases,
so one release is less than a point of macro-F1 on most types). The rest is the pool. Each run starts from a
random seed set of the pool, then adds a batch per round, chosen either by uncertainty — the ordering
``labeling push --order uncertainty`` and the backend use: lowest release-type margin first (``ReleaseType``'s
margin, the gap between the two best probabilities; ``labeling/tasks.py``) from the model of that round — or at
random; both models are retrained each round (the release-type TF-IDF model and the quote ranker; no ONNX) and
scored on the held-out releases: release-type macro-F1 and speaker accuracy (exactly matched quotes).
Several seeds; the curves are their means. One MLflow run with the table and the plot.
"""
from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np

from paths import EXPORT, ROOT

from . import evaluate, tracking

PLOT = ROOT / "docs" / "loop_simulation.png"
STRATEGIES = ("uncertainty", "random")


def _model():
    """The cheap release-type model of the simulation: word + structure TF-IDF, logistic regression
    (no inner calibration folds, so a seed set with one release of a type still trains)."""
    from sklearn.pipeline import make_pipeline, make_union

    from .release_type import _lr, _structure, _word
    return make_pipeline(make_union(_word(), _structure()), _lr())


def margins(proba: np.ndarray, classes) -> np.ndarray:
    """The release-type margin of each row, as kzclassify.ReleaseType computes it for a prediction."""
    from kzclassify import ReleaseType
    return np.array([ReleaseType.from_scores({str(c): float(p) for c, p in zip(classes, row)}).margin for row in proba])


def simulate(export_path=EXPORT, seed_size: int = 20, batch: int = 20, rounds: int = 10, seeds: int = 2,
             store=None, plot: Path = PLOT, log=print) -> dict:
    import mlflow

    from kzclassify._features import type_input
    from labeling.io import load_json
    from labeling.schema import schema

    from . import quotes
    from .merge import merge
    rows = merge(load_json(export_path), None).rows
    labels = list(schema().types)
    held = [i for i, r in enumerate(rows) if r["split"] != "train"]
    pool = np.array([i for i, r in enumerate(rows) if r["split"] == "train"])
    if seed_size < 2 or batch < 1 or rounds < 1 or seeds < 1:
        raise ValueError("--seed-size ≥ 2, --batch ≥ 1, --rounds ≥ 1 and --seeds ≥ 1")
    X = np.array([type_input(r["text"]) for r in rows], dtype=object)
    y = np.array([r["release_type"] for r in rows])
    Xq, yq, gq = quotes.training_examples(rows)
    held_rows = [rows[i] for i in held]

    def score(chosen: np.ndarray):
        """Both models trained on ``chosen``, scored on the held-out releases; and the release-type model."""
        est = _model().fit(list(X[chosen]), y[chosen])
        f1 = evaluate.classification_metrics(y[held], est.predict(list(X[held])), labels)["macro_f1"]
        m = np.isin(gq, chosen)
        if len(set(yq[m].tolist())) < 2:
            return f1, float("nan"), est
        ranker = quotes.ranker().fit(Xq[m], yq[m])
        c = quotes.evaluate_rows(held_rows, lambda x: ranker.predict_proba(x)[:, 1])
        return f1, quotes.speaker_accuracy(c), est

    t0 = time.time()
    curves = {s: [] for s in STRATEGIES}  # strategy → per seed → [(n, f1, speaker)]
    for seed in range(seeds):
        rng = np.random.RandomState(seed)
        start = rng.choice(pool, min(seed_size, len(pool)), replace=False)
        for strategy in STRATEGIES:
            chosen = np.array(sorted(start))
            order_rng = np.random.RandomState(1000 + seed)
            points = []
            for r in range(rounds + 1):
                f1, sp, est = score(chosen)
                points.append((len(chosen), f1, sp))
                log(f"[{time.time() - t0:5.0f} s] seed {seed} {strategy:11s} {len(chosen):4d} releases: "
                    f"macro-F1 {f1:.3f}, speaker accuracy {sp:.3f}")
                rest = np.setdiff1d(pool, chosen)
                if r == rounds or not len(rest):
                    break
                if strategy == "uncertainty":
                    order = rest[np.argsort(margins(est.predict_proba(list(X[rest])), est.classes_), kind="stable")]
                else:
                    order = order_rng.permutation(rest)
                chosen = np.array(sorted(np.concatenate([chosen, order[:batch]])))
            curves[strategy].append(points)
    table = []
    for strategy in STRATEGIES:
        arr = np.array(curves[strategy], dtype=float)  # seed × round × (n, f1, speaker)
        for k in range(arr.shape[1]):
            table.append({"strategy": strategy, "annotated": int(arr[0, k, 0]),
                          "macro_f1": float(np.nanmean(arr[:, k, 1])), "macro_f1_min": float(np.nanmin(arr[:, k, 1])),
                          "macro_f1_max": float(np.nanmax(arr[:, k, 1])),
                          "speaker_accuracy": float(np.nanmean(arr[:, k, 2]))})
    saved = savings(table)
    result = {"held_out": len(held), "pool": int(len(pool)), "seed_size": seed_size, "batch": batch, "rounds": rounds,
              "seeds": seeds, "table": table, "saved": saved, "seconds": round(time.time() - t0, 1)}
    _plot(table, plot, result)
    tracking.setup(tracking.LOOP_EXPERIMENT, store)
    with mlflow.start_run(run_name="simulate-active-learning") as run:
        mlflow.set_tags({"stage": "simulate", "git_commit": tracking.git_commit()})
        mlflow.log_params({k: result[k] for k in ("held_out", "pool", "seed_size", "batch", "rounds", "seeds")})
        for t in table:
            mlflow.log_metrics({f"{t['strategy']}.macro_f1": t["macro_f1"],
                                f"{t['strategy']}.speaker_accuracy": t["speaker_accuracy"]}, step=t["annotated"])
        mlflow.log_metrics({f"saved.{k}": v["saved"] for k, v in saved.items() if v["saved"] is not None})
        with tempfile.TemporaryDirectory() as td:
            evaluate.write_json(Path(td) / "simulation.json", result)
            mlflow.log_artifact(str(Path(td) / "simulation.json"))
        mlflow.log_artifact(str(plot))
        result["run_id"] = run.info.run_id
    return result


def savings(table: list[dict]) -> dict:
    """Per metric: the random order's final figure, the fewest annotated releases at which each order first
    reaches it, and how many labels the uncertainty order saves (None when it never reaches it)."""
    out = {}
    for metric in ("macro_f1", "speaker_accuracy"):
        rnd = [t for t in table if t["strategy"] == "random"]
        unc = [t for t in table if t["strategy"] == "uncertainty"]
        target = rnd[-1][metric]
        first = {name: next((t["annotated"] for t in pts if t[metric] >= target - 1e-12), None)
                 for name, pts in (("random", rnd), ("uncertainty", unc))}
        out[metric] = {"random_final": target, "random_annotated": rnd[-1]["annotated"],
                       "random_reaches_at": first["random"], "uncertainty_reaches_at": first["uncertainty"],
                       "saved": None if first["uncertainty"] is None else first["random"] - first["uncertainty"]}
    return out


def _plot(table: list[dict], path: Path, result: dict) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, metric, title in ((axes[0], "macro_f1", "release type macro-F1"),
                              (axes[1], "speaker_accuracy", "speaker accuracy")):
        for strategy, style in zip(STRATEGIES, ("o-", "s--")):
            pts = [t for t in table if t["strategy"] == strategy]
            ax.plot([t["annotated"] for t in pts], [t[metric] for t in pts], style, label=strategy)
            if metric == "macro_f1":
                ax.fill_between([t["annotated"] for t in pts], [t["macro_f1_min"] for t in pts],
                                [t["macro_f1_max"] for t in pts], alpha=0.15)
        ax.set_xlabel("annotated releases")
        ax.set_title(f"{title} (held out: {result['held_out']} releases)")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(f"Active learning replayed: seed {result['seed_size']}, +{result['batch']} per round, "
                 f"mean of {result['seeds']} seeds (band: min–max)", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def table_text(result: dict) -> str:
    rnd = {t["annotated"]: t for t in result["table"] if t["strategy"] == "random"}
    lines = ["| annotated | macro-F1 uncertainty | macro-F1 random | speaker acc. uncertainty | speaker acc. random |",
             "|---|---|---|---|---|"]
    for t in (t for t in result["table"] if t["strategy"] == "uncertainty"):
        r = rnd.get(t["annotated"], {})
        lines.append(f"| {t['annotated']} | {t['macro_f1']:.3f} | {r.get('macro_f1', float('nan')):.3f} | "
                     f"{t['speaker_accuracy']:.3f} | {r.get('speaker_accuracy', float('nan')):.3f} |")
    for metric, s in result["saved"].items():
        lines.append("")
        lines.append(f"{metric}: the random order ends at {s['random_final']:.3f} ({s['random_annotated']} releases) "
                     f"and first reaches it with {s['random_reaches_at']}; "
                     + (f"the uncertainty order first reaches it with {s['uncertainty_reaches_at']} "
                        f"({s['saved']} labels saved)" if s["saved"] is not None
                        else "the uncertainty order does not reach it in these rounds"))
    return "\n".join(lines)


def add_parser(sub) -> None:
    p = sub.add_parser("simulate", help="active learning replayed on the annotated releases (uncertainty vs random)")
    p.add_argument("--export", default=None, help="annotations (default labeling/annotations/export.json)")
    p.add_argument("--seed-size", type=int, default=20)
    p.add_argument("--batch", type=int, default=20)
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--seeds", type=int, default=2, help="random seed sets (the curves are their means)")
    p.add_argument("--plot", default=str(PLOT))
    p.add_argument("--store", default=None)
    p.set_defaults(func=cli)


def cli(args) -> int:
    r = simulate(Path(args.export) if args.export else EXPORT, args.seed_size, args.batch, args.rounds, args.seeds,
                 args.store, Path(args.plot), log=lambda m: print(m, flush=True))
    print(table_text(r))
    print(f"plot: {args.plot}; MLflow run {r['run_id']} ({r['seconds']} s)")
    print(json.dumps(r["saved"]))
    return 0
