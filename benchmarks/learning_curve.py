"""Simulation of the learning loop: weekly corrections, retraining with the gate, and a drift.

The model starts from 60 % of the corpus. Each week reviewers correct 200 messages: the rest of
the corpus (messages the model has not seen, written like incoming mail) and, in weeks 2 and 3,
20 messages of a new kind the corpus lacks (`training/drift/phishing.jsonl`: forwarded scam
messages in the Jobcenter's name, full of alarming words, mostly not urgent), spread over the
week as mail comes (`--drift-at-end`: all at the end, the worst case for the time-based holdout,
which keeps the newest reviews out of training until the next run). After each week
`retrain` runs with its gate; the model in service is scored on the regression set and on the
drift messages no reviewer saw. Prints a table and a JSON line per week.
    PYTHONPATH=. python benchmarks/learning_curve.py [--weeks 5] [--review-weight 3] [--drift-at-end]
"""
from __future__ import annotations

import argparse
import json
import random
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from training.corpus import DEFAULT_CORPUS, Example, read_examples
from training.evaluate import evaluate
from training.retrain import REGRESSION, REVIEW_WEIGHT, retrain
from training.train import fit_model, save_model
from triage.classify.engine import Engine, Message
from triage.registry import Registry
from triage.store.db import migrate, session_scope
from triage.store.messages import review_message, store_message
from triage.taxonomy import default_taxonomy

DRIFT = Path(__file__).parents[1] / "training" / "drift" / "phishing.jsonl"
PER_WEEK, DRIFT_PER_WEEK = 200, 20


def _write(examples: list[Example], path: Path) -> None:
    path.write_text("".join(json.dumps({"id": e.id, "text": e.text, "subject": e.subject, "channel": e.channel,
                                        "labels": e.labels}, ensure_ascii=False) + "\n" for e in examples),
                    encoding="utf-8")


def score_results(results: list, examples: list[Example], taxonomy) -> dict:
    """Headline figures of `results` against `examples`, plus what the learning loop watches:
    the main concern among the suggested ones and false alarms of the crisis level."""
    m = evaluate(results, [e.labels for e in examples], taxonomy)
    pairs = list(zip(results, examples))
    crisis = taxonomy.crisis_urgency
    calm = sum(e.labels["urgency"] != crisis for e in examples) or 1
    alarms = [r for r, e in pairs if r.labels["urgency"] == crisis and e.labels["urgency"] != crisis]
    hits = [r for r, e in pairs if r.labels["urgency"] == crisis and e.labels["urgency"] == crisis]
    unsure = [r for r in alarms + hits if "Dringlichkeit unsicher" in r.review_reasons]
    return {"first_topic": m["first_topic_accuracy"], "area_f1": m["area_macro_f1"],
            "exist_recall": m["urgency"][crisis]["recall"],
            # the main concern among the suggested ones (where the first two are a matter of reading)
            "topic_suggested": round(sum(e.labels["concerns"][0] in r.labels["concerns"] for r, e in pairs)
                                     / len(pairs), 3),
            "routing": m["accuracy"]["routing"], "false_alarms": len(alarms), "calm": calm,
            "false_alarm_rate": round(len(alarms) / calm, 3),
            # what the clerk sees: a suggested crisis the model doubts is marked "Dringlichkeit unsicher"
            "false_alarms_unsure": sum(r in unsure for r in alarms), "crises_unsure": sum(r in unsure for r in hits)}


def simulation_sets(taxonomy) -> tuple[list[Example], list[Example], list[Example], list[Example]]:
    """The simulations' data, in the same order for every benchmark: the start (60 % of the
    corpus), the rest of the corpus as incoming mail, the new kind (shuffled), the regression set."""
    corpus = list(read_examples(DEFAULT_CORPUS, taxonomy))
    random.Random(11).shuffle(corpus)
    drift = list(read_examples(DRIFT, taxonomy))
    random.Random(12).shuffle(drift)
    cut = int(0.6 * len(corpus))
    return corpus[:cut], corpus[cut:], drift, list(read_examples(REGRESSION, taxonomy))


def _score(engine: Engine, examples: list[Example], taxonomy) -> dict:
    results = list(engine.classify_many(Message(e.text, e.subject, e.channel, e.id) for e in examples))
    return score_results(results, examples, taxonomy)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--weeks", type=int, default=5)
    parser.add_argument("--review-weight", type=float, default=REVIEW_WEIGHT)
    parser.add_argument("--drift-at-end", action="store_true",
                        help="the new kind arrives at the end of each week (worst case for the time-based holdout)")
    args = parser.parse_args()
    taxonomy = default_taxonomy()
    start, stream, drift, regression = simulation_sets(taxonomy)
    drift_stream, drift_test = drift[:DRIFT_PER_WEEK * 2], drift[DRIFT_PER_WEEK * 2:]
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        _write(start, base / "start.jsonl")
        registry = Registry(base / "models")
        model = fit_model(start, taxonomy)
        registry.activate(save_model(model, start, taxonomy, registry, version="woche-0"))
        db_url = f"sqlite:///{base / 'triage.db'}"
        migrate(db_url)
        when = datetime(2026, 9, 7, 8, tzinfo=UTC)
        rows = []
        for week in range(args.weeks + 1):
            if week:
                batch = stream[(week - 1) * PER_WEEK: week * PER_WEEK]
                if week in (2, 3):
                    batch = batch[:PER_WEEK - DRIFT_PER_WEEK] + drift_stream[(week - 2) * DRIFT_PER_WEEK:
                                                                             (week - 1) * DRIFT_PER_WEEK]
                    if not args.drift_at_end:  # mail of the new kind comes in over the whole week
                        random.Random(week).shuffle(batch)
                engine = Engine.from_registry(registry, taxonomy=taxonomy)
                with session_scope(db_url) as session:
                    for i, e in enumerate(batch):
                        result = engine.classify(e.text, e.subject, e.channel).as_dict()
                        message, _ = store_message(session, taxonomy, text=e.text, subject=e.subject,
                                                   channel="E-Mail", result=result,
                                                   received_at=when + timedelta(days=7 * week, minutes=i))
                        review_message(session, taxonomy, message.id, version=message.version, reviewer="sim",
                                       action="correct", labels={k: v for k, v in e.labels.items()
                                                                 if k != "language"})
                run = retrain(db_url, registry, taxonomy, corpus=base / "start.jsonl",
                              review_weight=args.review_weight)
                status = run.status
                print(f"woche {week}: {run.status}: {run.reason}", flush=True)
            else:
                status = "start"
            serving = Engine.from_registry(registry, taxonomy=taxonomy)
            row = {"week": week, "status": status, "model": serving.version,
                   "regression": _score(serving, regression, taxonomy),
                   "drift": _score(serving, drift_test, taxonomy)}
            rows.append(row)
            print(json.dumps(row, ensure_ascii=False), flush=True)
    print("\n              regression (160 written messages)            new kind (unseen)")
    print("week  status        first  area F1  exist R  suggested  routing  false alarms   "
          "first  suggested  routing  exist R  false alarms (marked unsure)")
    for r in rows:
        g, d = r["regression"], r["drift"]
        print(f"{r['week']:>4}  {r['status']:<12}  {g['first_topic']:.3f}  {g['area_f1']:.3f}    "
              f"{g['exist_recall']:.3f}    {g['topic_suggested']:.3f}      {g['routing']:.3f}    "
              f"{g['false_alarm_rate']:.3f}          {d['first_topic']:.3f}  {d['topic_suggested']:.3f}      "
              f"{d['routing']:.3f}    {d['exist_recall']:.3f}    {d['false_alarms']} ({d['false_alarms_unsure']}) "
              f"of {d['calm']}")

if __name__ == "__main__":
    main()
