"""Does reviewing the least confident messages first (`order=unsicher`) teach the model more than
reviewing in the order mail arrives?

The model starts from 60 % of the corpus. The rest of the corpus and 40 messages of a kind the
corpus lacks (`training/drift/phishing.jsonl`) arrive as mail; reviewers get through only
BUDGET of them per round. In each round they take either the next ones in arrival order or the
ones the model in service is least sure of (the confidence of its first concern, as the queue
sorts them), the model is retrained on the start plus everything reviewed so far (reviews
weighted as in `triage retrain`), and scored on the regression set and on 60 unseen messages of
the new kind. Prints a table.
    PYTHONPATH=. python benchmarks/review_order.py [--rounds 2] [--budget 150]
"""
from __future__ import annotations

import argparse
import random

from benchmarks.learning_curve import score_results, simulation_sets
from training.retrain import REVIEW_WEIGHT
from triage.classify.engine import Engine, Message
from triage.classify.features import Analyzer
from triage.classify.model import TriageModel
from triage.taxonomy import default_taxonomy


def _fit(start, reviewed, analyses, taxonomy):
    examples = start + reviewed
    weights = [1.0] * len(start) + [REVIEW_WEIGHT] * len(reviewed)
    return TriageModel().fit([analyses[e.id] for e in examples], [e.labels for e in examples], taxonomy,
                             sample_weight=weights)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--budget", type=int, default=150)
    args = parser.parse_args()
    taxonomy = default_taxonomy()
    start, pool, drift, regression = simulation_sets(taxonomy)
    arriving, drift_test = pool + drift[:40], drift[40:]
    random.Random(5).shuffle(arriving)  # the new kind arrives among ordinary mail
    analyzer = Analyzer()
    everything = start + arriving
    analyses = dict(zip([e.id for e in everything],
                        analyzer.analyse_many((e.text, e.subject, e.channel) for e in everything)))
    start_model = _fit(start, [], analyses, taxonomy)
    rows = []
    for strategy in ("Eingang", "unsicher"):
        model, reviewed, waiting = start_model, [], list(arriving)
        for round_ in range(1, args.rounds + 1):
            if strategy == "unsicher":
                scores = model.scores([analyses[e.id] for e in waiting])
                confidence = {e.id: max(s.concerns.values()) for e, s in zip(waiting, scores)}
                waiting.sort(key=lambda e: confidence[e.id])
            taken, waiting = waiting[: args.budget], waiting[args.budget:]
            reviewed += taken
            model = _fit(start, reviewed, analyses, taxonomy)
            engine = Engine(model, strategy, taxonomy, analyzer)
            scored = {name: score_results(list(engine.classify_many(Message(e.text, e.subject, e.channel)
                                                                    for e in data)), data, taxonomy)
                      for name, data in (("regression", regression), ("drift", drift_test))}
            rows.append((strategy, round_, len(reviewed), sum(e.id.startswith("dr-") for e in reviewed), scored))
            print(rows[-1][:4], {k: v["first_topic"] for k, v in scored.items()}, flush=True)
    print("\norder     round  reviewed  of the new kind   regression: first / area F1 / routing   "
          "new kind: first / suggested / routing")
    for strategy, round_, n, n_drift, s in rows:
        g, d = s["regression"], s["drift"]
        print(f"{strategy:<9} {round_:>5}  {n:>8}  {n_drift:>15}   {g['first_topic']:.3f} / {g['area_f1']:.3f} / "
              f"{g['routing']:.3f}          {d['first_topic']:.3f} / {d['topic_suggested']:.3f} / {d['routing']:.3f}")


if __name__ == "__main__":
    main()
