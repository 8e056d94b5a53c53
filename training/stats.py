"""Label counts of the corpus as a Markdown table: python -m training.stats [DIR]"""
from __future__ import annotations

import statistics
import sys
from collections import Counter

from triage.taxonomy import default_taxonomy

from .corpus import DEFAULT_CORPUS, read_examples


def table(title: str, counts: Counter, total: int) -> str:
    rows = [f"| {title} | count | share |", "| --- | ---: | ---: |"]
    rows += [f"| `{key}` | {n} | {n / total:.1%} |" for key, n in counts.most_common()]
    return "\n".join(rows)


def main() -> None:
    taxonomy = default_taxonomy()
    examples = list(read_examples(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_CORPUS, taxonomy))
    n = len(examples)
    first = Counter(e.labels["concerns"][0] for e in examples)
    first.update({c: 0 for c in taxonomy.codes})
    words = [len(e.text.split()) for e in examples]
    print(f"{n} messages; words per message: median {statistics.median(words):.0f}, "
          f"min {min(words)}, max {max(words)}; with 2–3 concerns: "
          f"{sum(len(e.labels['concerns']) > 1 for e in examples) / n:.1%}\n")
    print(table("first concern", first, n) + "\n")
    for field in ("urgency", "absender", "art", "routing", "language"):
        print(table(field, Counter(e.labels[field] for e in examples), n) + "\n")
    print(table("channel", Counter(e.channel or "-" for e in examples), n))


if __name__ == "__main__":
    main()
