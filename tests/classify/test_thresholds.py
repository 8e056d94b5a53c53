import numpy as np

from triage.classify.thresholds import best_f1_threshold, secondary_thresholds


def test_best_f1_threshold_separates_and_defaults_when_rare():
    scores = np.array([0.9, 0.7, 0.6, 0.2, 0.1])
    truth = np.array([True, True, True, False, False])
    assert 0.2 < best_f1_threshold(scores, truth) <= 0.6
    assert best_f1_threshold(scores, np.array([True, False, False, False, False])) == 0.5


def test_secondary_thresholds_one_per_label():
    probs = np.array([[0.8, 0.6, 0.1], [0.7, 0.1, 0.2], [0.2, 0.9, 0.5], [0.1, 0.8, 0.1]])
    gold = np.array([[1, 1, 0], [1, 0, 0], [0, 1, 1], [0, 1, 0]])
    assert secondary_thresholds(probs, gold, min_positives=1).shape == (3,)


def test_decision_micro_f1_counts_the_top_label_and_at_most_limit_further():
    from triage.classify.thresholds import _decision_micro_f1

    probs = np.array([[0.9, 0.6, 0.55, 0.1], [0.2, 0.7, 0.1, 0.1]])
    gold = np.array([[1, 0, 1, 0], [0, 1, 0, 0]])
    # row 0: top 0 plus the best further one (1, wrong) with limit 1; row 1: top 1 only
    assert _decision_micro_f1(probs, gold, np.full(4, 0.5), limit=1) == 2 * 2 / (2 * 2 + 1 + 1)
    assert _decision_micro_f1(probs, gold, np.array([0.5, 0.65, 0.5, 0.5]), limit=1) == 1.0


def test_a_rare_label_does_not_get_a_threshold_that_floods_messages_with_it():
    rng = np.random.default_rng(0)
    n = 400
    probs = np.column_stack([rng.uniform(0.5, 1.0, n), rng.uniform(0.0, 0.3, n), rng.uniform(0.0, 0.2, n)])
    gold = np.zeros((n, 3), dtype=int)
    gold[:, 0] = 1
    gold[:4, 1] = 1  # four messages mention label 1 as well, with low scores like the rest
    probs[:4, 1] = 0.25
    thresholds = secondary_thresholds(probs, gold, min_positives=1)
    # tuned alone it would be about 0.25 and add label 1 to a sixth of all mail
    assert (probs[:, 1] >= thresholds[1]).sum() <= 4
