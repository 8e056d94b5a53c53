import numpy as np

from triage.classify.thresholds import best_f1_threshold, recall_threshold, secondary_thresholds


def test_recall_threshold_keeps_the_target_recall():
    scores = np.array([0.9, 0.8, 0.3, 0.2, 0.1, 0.05])
    truth = np.array([True, True, True, False, False, True])
    t = recall_threshold(scores, truth, target=0.75)
    assert (scores[truth] >= t).mean() >= 0.75
    assert t > 0.05  # the highest such threshold, not zero
    assert recall_threshold(scores, truth, target=1.0) <= 0.05


def test_best_f1_threshold_separates_and_defaults_when_rare():
    scores = np.array([0.9, 0.7, 0.6, 0.2, 0.1])
    truth = np.array([True, True, True, False, False])
    assert 0.2 < best_f1_threshold(scores, truth) <= 0.6
    assert best_f1_threshold(scores, np.array([True, False, False, False, False])) == 0.5


def test_secondary_thresholds_one_per_label():
    probs = np.array([[0.8, 0.6, 0.1], [0.7, 0.1, 0.2], [0.2, 0.9, 0.5], [0.1, 0.8, 0.1]])
    gold = np.array([[1, 1, 0], [1, 0, 0], [0, 1, 1], [0, 1, 0]])
    assert secondary_thresholds(probs, gold, min_positives=1).shape == (3,)
