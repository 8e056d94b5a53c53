"""How many corrections a new kind of message needs: the full corpus plus the first n reviewed
messages of the new kind (`training/drift/phishing.jsonl`, weighed like reviews), scored on
messages of that kind the model never saw. n = 0, 20, 40 are scored on the same 60 unseen
messages; n = 80 by 5-fold cross-validation over all 100. Complements learning_curve.py,
which runs the whole weekly loop with its gate but has only 40 of the new kind to learn from.
    PYTHONPATH=. python benchmarks/drift_rounds.py
"""
from __future__ import annotations

import random

from benchmarks.learning_curve import DRIFT, score_results
from training.corpus import DEFAULT_CORPUS, read_examples
from training.retrain import REVIEW_WEIGHT
from triage.classify.engine import Engine, Message
from triage.classify.features import Analyzer
from triage.classify.model import TriageModel
from triage.taxonomy import default_taxonomy


def main() -> None:
    taxonomy = default_taxonomy()
    corpus = list(read_examples(DEFAULT_CORPUS, taxonomy))
    drift = list(read_examples(DRIFT, taxonomy))
    random.Random(12).shuffle(drift)  # the same order as learning_curve.py
    analyzer = Analyzer()
    corpus_analyses = list(analyzer.analyse_many((e.text, e.subject, e.channel) for e in corpus))
    drift_analyses = list(analyzer.analyse_many((e.text, e.subject, e.channel) for e in drift))
    splits = [(n, [list(range(n))], [list(range(40, 100))]) for n in (0, 20, 40)]
    folds = [list(range(k * 20, (k + 1) * 20)) for k in range(5)]
    splits.append((80, [[i for i in range(100) if i not in fold] for fold in folds], folds))
    print("corrections of the new kind   first topic  topic suggested  routing  false alarms (marked unsure)  "
          "exist recall (crises marked unsure)")
    for n, train_sets, test_sets in splits:
        results, tested = [], []
        for train_idx, test_idx in zip(train_sets, test_sets):
            analyses = corpus_analyses + [drift_analyses[i] for i in train_idx]
            labels = [e.labels for e in corpus] + [drift[i].labels for i in train_idx]
            weights = [1.0] * len(corpus) + [REVIEW_WEIGHT] * len(train_idx)
            model = TriageModel().fit(analyses, labels, taxonomy, sample_weight=weights)
            engine = Engine(model, "probe", taxonomy, analyzer)
            tested += [drift[i] for i in test_idx]
            results += engine.classify_many(Message(drift[i].text, drift[i].subject, drift[i].channel)
                                            for i in test_idx)
        m = score_results(results, tested, taxonomy)
        print(f"{n:>27}   {m['first_topic']:.3f}        {m['topic_suggested']:.3f}            {m['routing']:.3f}    "
              f"{m['false_alarms']} ({m['false_alarms_unsure']}) of {m['calm']}             "
              f"{m['exist_recall']:.3f} ({m['crises_unsure']})", flush=True)


if __name__ == "__main__":
    main()
