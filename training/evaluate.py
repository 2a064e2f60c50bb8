"""Stage 3: classification metrics, confusion matrix, calibration, error list."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def classification_metrics(y_true, y_pred, labels: list[str]) -> dict:
    """Accuracy, macro-F1 over the labels present in ``y_true`` and per-class figures.

    A label with no true example (the test split has no ``award``) has no recall and no F1: it is listed
    under ``absent`` with ``None`` figures and the number of releases predicted as it (each of those is
    already an error in its true class), instead of counting as F1 0 in the macro average. A present
    label that is never predicted has precision 0 (``zero_division=0``: no right prediction)."""
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    present = [i for i in range(len(labels)) if s[i] > 0]
    per_class = {}
    for i, l in enumerate(labels):
        if s[i] > 0:
            per_class[l] = {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
        else:
            per_class[l] = {"precision": None, "recall": None, "f1": None, "support": 0,
                            "predicted": int((y_pred == l).sum())}
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(np.mean([f[i] for i in present])) if present else float("nan"),
        "labels_scored": [labels[i] for i in present],
        "absent": [l for i, l in enumerate(labels) if s[i] == 0],
        "per_class": per_class,
        "confusion": {"labels": labels,
                      "matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist()},
    }


def expected_calibration_error(conf: np.ndarray, correct: np.ndarray, bins: int = 10) -> tuple[float, list[dict]]:
    """ECE of top-label confidence, and the reliability curve (one dict per non-empty bin)."""
    edges = np.linspace(0, 1, bins + 1)
    ece, curve = 0.0, []
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (conf > lo) & (conf <= hi) if lo > 0 else (conf >= lo) & (conf <= hi)
        if not m.any():
            continue
        acc, c = float(correct[m].mean()), float(conf[m].mean())
        ece += m.mean() * abs(acc - c)
        curve.append({"bin": [float(lo), float(hi)], "count": int(m.sum()), "accuracy": acc, "confidence": c})
    return float(ece), curve


def plot_confusion(confusion: dict, path: Path, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = np.array(confusion["matrix"])
    labels = confusion["labels"]
    fig, ax = plt.subplots(figsize=(7, 6))
    ax.imshow(m, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, str(m[i, j]), ha="center", va="center", color="white" if m[i, j] > m.max() / 2 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("annotated")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_reliability(curve: list[dict], ece: float, path: Path, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], "--", color="grey")
    ax.plot([c["confidence"] for c in curve], [c["accuracy"] for c in curve], "o-")
    ax.set_xlabel("confidence (top label)")
    ax.set_ylabel("accuracy")
    ax.set_title(f"{title}\nECE = {ece:.3f}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def error_list(ids, texts, y_true, y_pred, conf, limit: int = 30) -> list[dict]:
    """Mistakes sorted by the model's confidence in the wrong label (worst first)."""
    errs = [
        {"id": i, "annotated": t, "predicted": p, "confidence": float(c), "lead": x.split("\n", 1)[0][:200]}
        for i, x, t, p, c in zip(ids, texts, y_true, y_pred, conf) if t != p
    ]
    return sorted(errs, key=lambda e: -e["confidence"])[:limit]


def write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1), encoding="utf-8")
