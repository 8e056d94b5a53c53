"""Sample weights: unit weights change nothing; weight on a few examples pulls the model to them."""
import numpy as np
import pytest

from tests.conftest import TINY
from training.corpus import read_examples
from triage.classify.model import TriageModel


@pytest.fixture(scope="module")
def data(analyzer, taxonomy):
    examples = list(read_examples(TINY, taxonomy))
    return [analyzer.analyse(e.text) for e in examples], [e.labels for e in examples]


# SGD heads (tuned for tens of thousands of messages, 30 epochs) do not converge on the tiny corpus
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("large", [6000, 10])  # calibrated SVM heads, and SGD heads for large data
def test_unit_weights_equal_no_weights(data, taxonomy, large):
    analyses, labels = data
    plain = TriageModel(folds=2, large=large).fit(analyses, labels, taxonomy)
    weighted = TriageModel(folds=2, large=large).fit(analyses, labels, taxonomy, sample_weight=[1.0] * len(labels))
    for a, b in zip(plain.scores(analyses[:10]), weighted.scores(analyses[:10])):
        assert a.concerns == pytest.approx(b.concerns) and a.urgency == pytest.approx(b.urgency)


def test_weighted_examples_count_more(data, taxonomy):
    analyses, labels = data
    first = labels[0]["concerns"][0]
    same = [i for i, lab in enumerate(labels) if lab["concerns"][0] == first]
    weights = np.ones(len(labels))
    weights[same] = 5.0
    plain = TriageModel(folds=2).fit(analyses, labels, taxonomy)
    weighted = TriageModel(folds=2).fit(analyses, labels, taxonomy, sample_weight=weights)
    p_plain = [s.concerns[first] for s in plain.scores([analyses[i] for i in same])]
    p_weighted = [s.concerns[first] for s in weighted.scores([analyses[i] for i in same])]
    assert np.mean(p_weighted) > np.mean(p_plain)


def test_weights_must_match_the_examples(data, taxonomy):
    from triage.errors import DataError

    analyses, labels = data
    with pytest.raises(DataError, match="Gewichte"):
        TriageModel(folds=2).fit(analyses, labels, taxonomy, sample_weight=[1.0])
