"""How many corrections a new kind of message needs: the full corpus plus the first n reviewed
messages of the new kind (`training/drift/phishing.jsonl`, weighed like reviews), scored on
messages of that kind the model never saw. n = 0, 20, 40 are scored on the same 60 unseen
messages; n = 80 by 5-fold cross-validation over all 100. Complements learning_curve.py,
which runs the whole weekly loop with its gate but has only 40 of the new kind to learn from.
    PYTHONPATH=. python benchmarks/drift_rounds.py
"""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from training.corpus import DEFAULT_CORPUS, read_examples
from training.retrain import REVIEW_WEIGHT
from triage.classify.engine import Engine, Message
from triage.classify.features import Analyzer
from triage.classify.model import TriageModel
from triage.taxonomy import default_taxonomy

DRIFT = Path(__file__).parents[1] / "training" / "drift" / "phishing.jsonl"


def _score(engine: Engine, examples, crisis: str) -> tuple[int, int, int, int, int, int]:
    results = list(engine.classify_many(Message(e.text, e.subject, e.channel) for e in examples))
    pairs = list(zip(results, examples))
    return (sum(r.labels["concerns"][0] == e.labels["concerns"][0] for r, e in pairs),
            sum(e.labels["concerns"][0] in r.labels["concerns"] for r, e in pairs),
            sum(r.labels["routing"] == e.labels["routing"] for r, e in pairs),
            sum(r.labels["urgency"] == crisis and e.labels["urgency"] != crisis for r, e in pairs),
            sum(r.labels["urgency"] != crisis and e.labels["urgency"] == crisis for r, e in pairs),
            len(pairs))


def main() -> None:
    taxonomy = default_taxonomy()
    crisis = taxonomy.crisis_urgency
    corpus = list(read_examples(DEFAULT_CORPUS, taxonomy))
    drift = list(read_examples(DRIFT, taxonomy))
    random.Random(12).shuffle(drift)  # the same order as learning_curve.py
    analyzer = Analyzer()
    corpus_analyses = list(analyzer.analyse_many((e.text, e.subject, e.channel) for e in corpus))
    drift_analyses = list(analyzer.analyse_many((e.text, e.subject, e.channel) for e in drift))
    splits = [(n, [list(range(n))], [list(range(40, 100))]) for n in (0, 20, 40)]
    folds = [list(range(k * 20, (k + 1) * 20)) for k in range(5)]
    splits.append((80, [[i for i in range(100) if i not in fold] for fold in folds], folds))
    print("corrections of the new kind   first topic  topic suggested  routing  false alarms  missed crises")
    for n, train_sets, test_sets in splits:
        total = np.zeros(6, dtype=int)
        for train_idx, test_idx in zip(train_sets, test_sets):
            analyses = corpus_analyses + [drift_analyses[i] for i in train_idx]
            labels = [e.labels for e in corpus] + [drift[i].labels for i in train_idx]
            weights = [1.0] * len(corpus) + [REVIEW_WEIGHT] * len(train_idx)
            model = TriageModel().fit(analyses, labels, taxonomy, sample_weight=weights)
            total += _score(Engine(model, "probe", taxonomy, analyzer), [drift[i] for i in test_idx], crisis)
        first, suggested, routing, alarms, missed, count = total.tolist()
        calm = sum(drift[i].labels["urgency"] != crisis for idx in test_sets for i in idx)
        print(f"{n:>27}   {first / count:.3f}        {suggested / count:.3f}            {routing / count:.3f}    "
              f"{alarms} of {calm}       {missed}", flush=True)


if __name__ == "__main__":
    main()
