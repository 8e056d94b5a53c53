"""Benchmark: batch classification speed on one process, and (with --train) model build time.

Messages are the training corpus's texts, cycled to --n messages (typical lengths of real
mail). Prints a human summary and a JSON line last.
    python benchmarks/classify_speed.py [--n 10000] [--train]
"""
from __future__ import annotations

import argparse
import gc
import json
import statistics
import tempfile
import time
from itertools import cycle, islice

from training.corpus import DEFAULT_CORPUS, read_examples
from training.train import train
from triage.classify.engine import Engine, Message
from triage.registry import Registry
from triage.taxonomy import default_taxonomy


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--train", action="store_true", help="also time a full training run")
    args = parser.parse_args()
    taxonomy = default_taxonomy()
    result: dict = {}
    if args.train:
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            train(taxonomy, Registry(folder), DEFAULT_CORPUS, version="bench")
            result["train_seconds"] = round(time.perf_counter() - start, 1)
    examples = list(read_examples(DEFAULT_CORPUS, taxonomy))
    messages = [Message(e.text, e.subject, e.channel, str(i))
                for i, e in enumerate(islice(cycle(examples), args.n))]
    start = time.perf_counter()
    engine = Engine.from_registry()
    load_s = time.perf_counter() - start
    list(engine.classify_many(messages[:300]))  # warm caches as a running service would have them
    gc.collect()
    gc.freeze()  # as the service and `triage classify` do after loading the model
    start = time.perf_counter()
    done = sum(1 for _ in engine.classify_many(messages))
    seconds = time.perf_counter() - start
    words = statistics.median(len(m.text.split()) for m in messages)
    result.update(messages=done, seconds=round(seconds, 2), msg_per_s=round(done / seconds, 1),
                  median_words=words, model_load_seconds=round(load_s, 2), model_version=engine.version)
    print(f"{done} messages (median {words:.0f} words) in {seconds:.1f} s: {done / seconds:.0f} messages/s")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
