"""Cross-validation folds drawn from the release id alone (seeded), shared by every model and every run.

A release's fold is ``int(sha256(f"{seed}:{release_id}")[:8], 16) % folds``: it does not depend on which other
releases are in the data, so a challenger trained on a grown dataset and the champion re-scored on it see the
same folds for the releases they share, and the release-type model and the quote ranker use the same folds.
"""
from __future__ import annotations

import hashlib

import numpy as np


def fold_of(release_id: str, folds: int, seed: int) -> int:
    return int(hashlib.sha256(f"{seed}:{release_id}".encode()).hexdigest()[:8], 16) % folds


def fold_ids(ids, folds: int, seed: int) -> np.ndarray:
    return np.array([fold_of(i, folds, seed) for i in ids], dtype=int)


def splits(ids, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train indices, test indices) per fold, the way sklearn's splitters give them; empty folds are left out."""
    if folds < 2:
        raise ValueError(f"--folds must be at least 2 (got {folds})")
    f = fold_ids(ids, folds, seed)
    idx = np.arange(len(f))
    return [(idx[f != k], idx[f == k]) for k in range(folds) if (f == k).any()]
