"""Metrics shared by ``kzclassify evaluate``, training's evaluation and annotator agreement (pure Python).

The one definition of quote exact/token F1 and speaker accuracy (``SpanCounts``) and of the
release-type scores (``type_scores``); ``labeling.metrics`` re-exports them.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

_TOKEN = re.compile(r"\w+")


def cohen_kappa(a: list[str], b: list[str]) -> float:
    """Cohen's kappa of two label sequences of equal length."""
    n = len(a)
    if n == 0:
        return float("nan")
    po = sum(x == y for x, y in zip(a, b)) / n
    ca, cb = Counter(a), Counter(b)
    pe = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    return 1.0 if pe == 1 else (po - pe) / (1 - pe)


def prf(tp: int, n_pred: int, n_gold: int) -> tuple[float, float, float]:
    p = tp / n_pred if n_pred else 1.0
    r = tp / n_gold if n_gold else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def _tokens(text: str, spans) -> set[int]:
    """Start offsets of the word tokens inside the given spans."""
    out = set()
    for s, e in spans:
        out.update(m.start() + s for m in _TOKEN.finditer(text[s:e]))
    return out


@dataclass
class SpanCounts:
    """Counts for quote detection and attribution, accumulated over releases."""

    gold: int = 0
    pred: int = 0
    exact: int = 0  # predicted spans equal to a gold span
    exact_speaker: int = 0  # ... with the same canonical speaker
    matched: int = 0  # pairs matched by token overlap (>= 50 % of the gold tokens)
    matched_speaker: int = 0
    tok_gold: int = 0
    tok_pred: int = 0
    tok_both: int = 0

    def add(self, text: str, gold: list[tuple[int, int, str]], pred: list[tuple[int, int, str]]) -> None:
        """gold / pred: (start, end, speaker) triples for one release."""
        self.gold += len(gold)
        self.pred += len(pred)
        gset = {(s, e): sp for s, e, sp in gold}
        for s, e, sp in pred:
            if (s, e) in gset:
                self.exact += 1
                self.exact_speaker += gset[(s, e)] == sp
        used = set()
        for gs, ge, gsp in gold:
            gt = _tokens(text, [(gs, ge)])
            best, best_ov = None, 0
            for j, (ps, pe, psp) in enumerate(pred):
                if j in used:
                    continue
                ov = len(gt & _tokens(text, [(ps, pe)]))
                if ov > best_ov:
                    best, best_ov = j, ov
            if best is not None and gt and best_ov >= 0.5 * len(gt):
                used.add(best)
                self.matched += 1
                self.matched_speaker += pred[best][2] == gsp
        gt_all = _tokens(text, [(s, e) for s, e, _ in gold])
        pt_all = _tokens(text, [(s, e) for s, e, _ in pred])
        self.tok_gold += len(gt_all)
        self.tok_pred += len(pt_all)
        self.tok_both += len(gt_all & pt_all)

    def summary(self) -> dict[str, float]:
        ep, er, ef = prf(self.exact, self.pred, self.gold)
        tp, tr, tf = prf(self.tok_both, self.tok_pred, self.tok_gold)
        e2e_p, e2e_r, e2e_f = prf(self.exact_speaker, self.pred, self.gold)
        return {
            "gold_quotes": self.gold, "pred_quotes": self.pred,
            "exact_p": ep, "exact_r": er, "exact_f1": ef,
            "token_p": tp, "token_r": tr, "token_f1": tf,
            "speaker_acc_exact": self.exact_speaker / self.exact if self.exact else float("nan"),
            "speaker_acc_overlap": self.matched_speaker / self.matched if self.matched else float("nan"),
            "e2e_p": e2e_p, "e2e_r": e2e_r, "e2e_f1": e2e_f,
        }


def type_scores(gold: list[str], pred: list[str | None], labels: list[str] | None = None) -> dict:
    """Accuracy, macro-F1 over ``labels`` (default: every label in gold or pred) and per-class
    precision/recall/F1/support, as scikit-learn's ``precision_recall_fscore_support`` with
    ``zero_division=0`` computes them."""
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold labels, {len(pred)} predictions")
    labels = sorted(set(gold) | {p for p in pred if p is not None}) if labels is None else list(labels)
    per = {}
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, pred))
        n_pred = sum(p == label for p in pred)
        n_gold = sum(g == label for g in gold)
        pr = tp / n_pred if n_pred else 0.0
        rc = tp / n_gold if n_gold else 0.0
        per[label] = {"precision": pr, "recall": rc, "f1": 2 * pr * rc / (pr + rc) if pr + rc else 0.0,
                      "support": n_gold}
    n = len(gold)
    return {"n": n, "accuracy": sum(g == p for g, p in zip(gold, pred)) / n if n else float("nan"),
            "macro_f1": sum(c["f1"] for c in per.values()) / len(per) if per else float("nan"),
            "per_class": per}
