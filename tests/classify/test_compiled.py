"""The fast prediction path gives scikit-learn's own probabilities."""
import numpy as np
import pytest

from triage.classify.features import frame


def test_compiled_heads_equal_sklearn(tiny_engine, analyzer):
    texts = ["Mein Geld ist nicht gekommen.", "Die Hotline ist nie erreichbar!", "Danke für die Hilfe am Empfang.",
             "Ich schreibe für meine Mutter, die Miete wurde gekürzt.", "Bitte bis Freitag das Exposé prüfen."]
    analyses = [analyzer.analyse(t) for t in texts]
    model = tiny_engine.model
    fast, heads = model._compiled()
    x = model.vectoriser_.transform(frame(analyses))
    x_fast = fast.transform({"words": [a.words for a in analyses], "chars": [a.chars for a in analyses]})
    np.testing.assert_allclose(x_fast.toarray(), x.toarray(), atol=1e-6)
    for name, pipeline in model.heads_.items():
        np.testing.assert_allclose(heads[name].predict_proba(x_fast), pipeline.predict_proba(x), atol=1e-6)


def test_compiled_heads_equal_sklearn_on_the_corpus_model(corpus_engine, analyzer):
    analyses = [analyzer.analyse(t) for t in ["Wo bleibt mein Weiterbewilligungsantrag?", "Мені не прийшли гроші."]]
    model = corpus_engine.model
    fast, heads = model._compiled()
    x = model.vectoriser_.transform(frame(analyses))
    x_fast = fast.transform({"words": [a.words for a in analyses], "chars": [a.chars for a in analyses]})
    for name, pipeline in model.heads_.items():
        np.testing.assert_allclose(heads[name].predict_proba(x_fast), pipeline.predict_proba(x), atol=1e-6)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # SGD epochs sized for large data
def test_compiled_sgd_heads_equal_sklearn(analyzer, taxonomy):
    from tests.conftest import TINY
    from training.corpus import read_examples
    from triage.classify.model import TriageModel

    examples = list(read_examples(TINY, taxonomy))
    analyses = [analyzer.analyse(e.text) for e in examples]
    model = TriageModel(folds=2, large=10).fit(analyses, [e.labels for e in examples], taxonomy)  # large mode
    fast, heads = model._compiled()
    x = model.vectoriser_.transform(frame(analyses))
    for name, pipeline in model.heads_.items():
        np.testing.assert_allclose(heads[name].predict_proba(x), pipeline.predict_proba(x), atol=1e-6)
