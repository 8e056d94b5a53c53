"""The decision rules: which suggestions a person should look at first."""
import pytest

from triage.classify.decide import decide
from triage.classify.features import Analysis
from triage.classify.model import Scores


def _decide(taxonomy, p_crisis: float, p_topic: float = 0.9):
    crisis = taxonomy.crisis_urgency
    others = [u for u in taxonomy.values("urgency") if u != crisis]
    urgency = {crisis: p_crisis, **{u: (1 - p_crisis) / len(others) for u in others}}
    codes = taxonomy.codes[:2]
    scores = Scores({codes[0]: p_topic, codes[1]: 0.05}, {taxonomy.values("art")[0]: 1.0}, urgency,
                    {taxonomy.third_party: 0.02}, 0.0)
    thresholds = {"concerns": {}, "urgency": {crisis: 0.25, **{u: 0.5 for u in others}},
                  "absender": 0.5, "mediation": 0.5}
    return decide(scores, Analysis(text="x", subject="", words="", chars=""), thresholds, taxonomy)


@pytest.mark.parametrize(("p_crisis", "is_crisis", "unsure"), [
    (0.95, True, False),   # a clear crisis goes to the top as it is
    (0.40, True, True),    # over the recall-tuned threshold, but the model doubts it: look first
    (0.20, False, True),   # just under the threshold: look whether it is one after all
    (0.05, False, False),  # calm
])
def test_crisis_close_to_the_threshold_is_marked_unsure(taxonomy, p_crisis, is_crisis, unsure):
    decision = _decide(taxonomy, p_crisis)
    assert (decision.urgency == taxonomy.crisis_urgency) is is_crisis
    assert ("Dringlichkeit unsicher" in decision.review_reasons) is unsure
    assert decision.needs_review is unsure


def test_unsure_topic_is_marked(taxonomy):
    assert "Thema unsicher" in _decide(taxonomy, 0.05, p_topic=0.3).review_reasons
