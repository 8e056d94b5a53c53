"""Decision thresholds per label, chosen on cross-validated probabilities of the corpus.

One global threshold is wrong for unbalanced labels, so each label gets its own: secondary
concerns by F1, `existenzbedrohend` by the recall target, the binary heads by F1 or accuracy.
Pure functions over numpy arrays.
"""
from __future__ import annotations

import numpy as np

__all__ = ["best_f1_threshold", "best_fbeta_threshold", "recall_threshold", "secondary_thresholds", "GRID"]

GRID = np.round(np.arange(0.05, 0.96, 0.025), 3)


def _fbeta(tp: float, fp: float, fn: float, beta: float) -> float:
    b2 = beta * beta
    return 0.0 if tp == 0 else (1 + b2) * tp / ((1 + b2) * tp + b2 * fn + fp)


def best_fbeta_threshold(scores: np.ndarray, truth: np.ndarray, beta: float, default: float = 0.5,
                         min_positives: int = 3) -> float:
    """Threshold on `scores` that maximises F-beta for the boolean `truth` (beta > 1 favours recall)."""
    if truth.sum() < min_positives:
        return default
    best, best_f = default, -1.0
    for t in GRID:
        pred = scores >= t
        f = _fbeta(float((pred & truth).sum()), float((pred & ~truth).sum()), float((~pred & truth).sum()), beta)
        if f > best_f + 1e-9:
            best, best_f = float(t), f
    return best


def best_f1_threshold(scores: np.ndarray, truth: np.ndarray, default: float = 0.5, min_positives: int = 3) -> float:
    """Threshold on `scores` that maximises F1 for the boolean `truth`."""
    return best_fbeta_threshold(scores, truth, 1.0, default, min_positives)


def recall_threshold(scores: np.ndarray, truth: np.ndarray, target: float, cap: float = 0.5) -> float:
    """Highest threshold whose recall on `truth` still reaches `target`, at most `cap`.

    The highest such threshold keeps the most precision; the cap stops a lucky corpus from
    demanding more certainty than new mail will give.
    """
    positives = np.sort(scores[truth])
    if positives.size == 0:
        return cap
    allowed_misses = int(np.floor((1.0 - target) * positives.size))
    return float(min(cap, positives[allowed_misses] - 1e-6))


def secondary_thresholds(probs: np.ndarray, gold: np.ndarray, min_positives: int = 3) -> np.ndarray:
    """Per-label thresholds for concerns after the first, which is always the top score.

    For each label, the threshold is tuned on the messages where it is not the top score: a
    further concern is predicted there when its probability reaches the threshold.
    """
    top = probs.argmax(axis=1)
    out = np.full(probs.shape[1], 0.5)
    for j in range(probs.shape[1]):
        rest = top != j
        out[j] = best_f1_threshold(probs[rest, j], gold[rest, j].astype(bool), default=0.5,
                                   min_positives=min_positives)
    return out
