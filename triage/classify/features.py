"""From a message to what the models read.

`Analyzer.analyse` runs the spaCy pipeline and the rule files once per message and returns an
`Analysis`: the cleaned text, the norm stream the word features use, the folded text the
character features use (both with personal data replaced by placeholders, see
text/redact.py), and the rule evidence. `frame` turns analyses into the two-column
table every head's vectoriser takes.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from spacy.attrs import IDX, IS_ALPHA, NORM

from ..text.nlp import NUM, get_nlp
from ..text.normalize import clean, fold
from ..text.redact import redact, redaction_spans
from ..text.rules import DocIndex, Evidence, RuleSet, load_rules

__all__ = ["Analysis", "Analyzer", "frame", "RULE_FILES", "CHAR_LIMIT"]

RULE_FILES = ("urgency", "absender", "mediation")
CHAR_LIMIT = 3000
SUBJECT_GAP = "\n\n"


@dataclass
class Analysis:
    """What the pipeline learned about one message; evidence offsets index `text`."""

    text: str
    subject: str
    words: str
    chars: str
    evidence: dict[str, list[Evidence]] = field(default_factory=dict)

    def active(self, ruleset: str) -> list[Evidence]:
        return [e for e in self.evidence.get(ruleset, []) if e.active]


class Analyzer:
    """The German pipeline plus the rule files, built once and reused for every message."""

    def __init__(self, rules_dir: str | Path | None = None) -> None:
        if rules_dir is None:
            from ..config import get_settings

            rules_dir = get_settings().rules_dir
        self.nlp = get_nlp(rules_dir)
        self.rules: dict[str, RuleSet] = {
            name: load_rules(Path(rules_dir) / f"{name}.toml", self.nlp) for name in RULE_FILES
        }

    def analyse(self, text: str, subject: str = "", channel: str = "") -> Analysis:
        return next(iter(self.analyse_many([(text, subject, channel)])))

    def analyse_many(self, items: Iterable[tuple[str, str, str]], batch_size: int = 256) -> Iterable[Analysis]:
        """Analyse (text, subject, channel) triples lazily, in spaCy batches."""
        prepared = ((clean(text or ""), clean(subject or ""), channel or "") for text, subject, channel in items)
        buffered: list[tuple[str, str, str]] = []

        def joined():
            for body, subj, chan in prepared:
                buffered.append((body, subj, chan))
                yield f"{subj}{SUBJECT_GAP}{body}" if subj else body

        for doc in self.nlp.pipe(joined(), batch_size=batch_size):
            body, subj, chan = buffered.pop(0)
            yield self._analysis(doc, body, subj, chan)

    def _analysis(self, doc, body: str, subject: str, channel: str) -> Analysis:
        offset = len(subject) + len(SUBJECT_GAP) if subject else 0
        index = DocIndex(doc)
        evidence = {name: [_shift(e, offset) for e in rules.find(doc, index)] for name, rules in self.rules.items()}
        spans = redaction_spans(doc.text)
        words = _words(doc, spans)
        for name, found in evidence.items():
            for e in found:
                words.append(f"rule_{name}_{e.rule}_{e.status}")
                words.append(f"rule_{name}_{e.label}_{e.status}")
        if channel:
            words.append(f"kanal_{fold(channel)}")
        chars = fold(redact(doc.text, spans)[:CHAR_LIMIT])
        return Analysis(text=body, subject=subject, words=" ".join(words), chars=chars, evidence=evidence)


def _words(doc, spans: list[tuple[int, int, str]]) -> list[str]:
    """The norms the word features read (words and numbers), with personal data as placeholders:
    the first token of a redacted span becomes its placeholder, the rest of the span is dropped."""
    strings = doc.vocab.strings
    num = strings[NUM]
    rows = doc.to_array([NORM, IS_ALPHA, IDX]).tolist()
    if not spans:
        return [strings[norm] for norm, alpha, _ in rows if alpha or norm == num]
    starts = np.array([start for start, _, _ in spans])
    span_of = (np.searchsorted(starts, [idx for _, _, idx in rows], side="right") - 1).tolist()
    words, last = [], -1
    for (norm, alpha, idx), k in zip(rows, span_of):
        if k >= 0 and idx < spans[k][1]:
            if k != last:
                words.append(spans[k][2])
                last = k
        elif alpha or norm == num:
            words.append(strings[norm])
    return words


def _shift(e: Evidence, offset: int) -> Evidence:
    """Make offsets relative to the field the match stands in: the subject or the body."""
    if e.start < offset:
        return replace(e, field="subject")
    return replace(e, start=e.start - offset, end=e.end - offset)


def frame(analyses: Sequence[Analysis]) -> pd.DataFrame:
    return pd.DataFrame({"words": [a.words for a in analyses], "chars": [a.chars for a in analyses]})
