"""Decision thresholds per label, chosen on cross-validated probabilities of the corpus.

One global threshold is wrong for unbalanced labels, so each label gets its own: secondary
concerns by F1 (with a common floor), `existenzbedrohend` by F2 (recall first), the binary heads by F1.
Pure functions over numpy arrays.
"""
from __future__ import annotations

import numpy as np

__all__ = ["best_f1_threshold", "best_fbeta_threshold", "secondary_thresholds", "GRID"]

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


def secondary_thresholds(probs: np.ndarray, gold: np.ndarray, min_positives: int = 3, limit: int = 2) -> np.ndarray:
    """Per-label thresholds for concerns after the first, which is always the top score.

    For each label, the threshold is tuned on the messages where it is not the top score: a
    further concern is predicted there when its probability reaches the threshold. Tuned one by
    one, rare labels get thresholds as low as 0.05 that fit a handful of examples and predict far
    more further concerns than mail has; so every threshold is raised to at least a common floor,
    the one that maximises micro-F1 of whole decisions (first concern plus at most `limit`
    further ones) over all labels at once.
    """
    top = probs.argmax(axis=1)
    out = np.full(probs.shape[1], 0.5)
    for j in range(probs.shape[1]):
        rest = top != j
        out[j] = best_f1_threshold(probs[rest, j], gold[rest, j].astype(bool), default=0.5,
                                   min_positives=min_positives)
    floors = [(_decision_micro_f1(probs, gold, np.maximum(out, floor), limit), -floor) for floor in GRID]
    floor = -max(floors)[1]  # the best micro-F1; on a tie the lower floor
    return np.maximum(out, floor)


def _decision_micro_f1(probs: np.ndarray, gold: np.ndarray, thresholds: np.ndarray, limit: int) -> float:
    """Micro-F1 of the concerns `decide` would give: the top label plus up to `limit` further
    labels that reach their thresholds, highest first."""
    rows = np.arange(len(probs))
    top = probs.argmax(axis=1)
    further = np.where(probs >= thresholds, probs, -1.0)
    further[rows, top] = -1.0
    ranked = np.argsort(-further, axis=1)[:, :limit]
    pred = np.zeros_like(gold, dtype=bool)
    pred[rows, top] = True
    kept = np.take_along_axis(further, ranked, axis=1) >= 0
    pred[np.repeat(rows, limit)[kept.ravel()], ranked.ravel()[kept.ravel()]] = True
    truth = gold.astype(bool)
    tp, fp, fn = (pred & truth).sum(), (pred & ~truth).sum(), (~pred & truth).sum()
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)
