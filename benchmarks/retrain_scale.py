"""Benchmark: `retrain` with --reviews reviewed messages in the store plus the corpus.

The reviewed messages are made from the corpus (each text joined with a sentence of another
message, so they are distinct and survive de-duplication). Prints wall time and peak memory
(resident set of this process) as a JSON line last.
    PYTHONPATH=. python benchmarks/retrain_scale.py [--reviews 50000]
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from training.corpus import DEFAULT_CORPUS, read_examples
from training.retrain import retrain
from triage.registry import Registry
from triage.store.db import get_engine, migrate
from triage.store.tables import Message, Review
from triage.taxonomy import default_taxonomy


def fill(db_url: str, n: int, examples, taxonomy) -> None:
    rng = random.Random(5)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    sentences = [s for e in examples for s in e.text.split(". ") if len(s) > 40]
    messages = []
    for i in range(n):
        e = examples[i % len(examples)]
        labels = e.labels
        messages.append({"channel": "E-Mail", "subject": e.subject, "version": 2, "status": "in_bearbeitung",
                         "text": f"{e.text}\n{rng.choice(sentences)}.", "received_at": start + timedelta(minutes=i),
                         "created_at": start, "concerns": labels["concerns"],
                         "area": taxonomy.area_of(labels["concerns"][0]), "art": labels["art"],
                         "urgency": labels["urgency"],
                         "urgency_rank": taxonomy.values("urgency").index(labels["urgency"]),
                         "absender": labels["absender"], "unit": labels["routing"], "language": labels["language"],
                         "needs_review": False, "confidence": 0.9, "reviewed": True})
    engine = get_engine(db_url)
    with engine.begin() as connection:
        for chunk in range(0, n, 5000):
            connection.execute(insert(Message), messages[chunk:chunk + 5000])
        ids = connection.execute(select(Message.id).order_by(Message.id)).scalars().all()
        for chunk in range(0, n, 5000):
            connection.execute(insert(Review), [
                {"message_id": i, "reviewer": "bench", "action": "correct", "labels": {}, "status": "in_bearbeitung",
                 "message_version": 1, "created_at": start} for i in ids[chunk:chunk + 5000]])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reviews", type=int, default=50_000)
    parser.add_argument("--dry-run", action="store_true", help="score only; by default the candidate is stored")
    args = parser.parse_args()
    taxonomy = default_taxonomy()
    examples = list(read_examples(DEFAULT_CORPUS, taxonomy))
    with tempfile.TemporaryDirectory() as folder:
        registry = Registry(Path(folder) / "models", Path("models/.registry-key"))
        source = Registry("models")
        active = source.active()
        shutil.copytree(source.versions_dir / active, registry.versions_dir / active)
        registry.activate(active)
        db_url = f"sqlite:///{Path(folder) / 'triage.db'}"
        migrate(db_url)
        fill(db_url, args.reviews, examples, taxonomy)
        start = time.perf_counter()
        run = retrain(db_url, registry, taxonomy, dry_run=args.dry_run)
        seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {"reviews": args.reviews, "training_examples": run.counts["corpus_and_reviews"],
              "held_out": run.counts["held_out"], "seconds": round(seconds, 1), "peak_rss_mb": round(peak_mb),
              "status": run.status}
    print(f"retrain with {args.reviews} reviews: {seconds:.0f} s, peak {peak_mb:.0f} MB")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
