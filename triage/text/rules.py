"""Rule components: find signal phrases in a Doc, judge their context, return evidence spans.

A rule file (TOML, under the rules folder) holds `[[signal]]` entries, each with an `id`, the
`label` it speaks for and a list of patterns, and a `[cues]` table of context patterns
(`negated`, `past`, `hypothetical` look at the signal's clause; `past_sentence` and
`hypothetical_sentence` at its whole sentence). Patterns are a small language over token norms:

    konto ... leer           words in order; `...` is a gap of up to 6 tokens in the clause
    strom abstellen|sperren  `a|b` alternatives; words are lemmatised and folded like the text
    raeumung*                prefix of a norm (compounds: "Räumungsklagen", "Räumungstermin")
    =hatte                   exact lower-case surface form (for tense, which lemmas lose)
    mehr?                    optional token
    #num                     a number, date or amount

As in spaCy's EntityRuler, the component first finds matches, then writes results; the
patterns are data. A signal whose clause holds a negation, or whose sentence places it in the
past or in a hypothetical, is kept with that status instead of `active`, so callers can tell
"der Strom wird am Freitag gesperrt" from "eine Sperre droht zum Glück nicht".
"""
from __future__ import annotations

import itertools
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy
from spacy.attrs import LOWER, NORM, SENT_START
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span

from ..errors import TaxonomyError
from .nlp import NUM, norm_of
from .normalize import fold

__all__ = ["Evidence", "RuleSet", "load_rules", "ACTIVE"]

ACTIVE = "active"
# Cue kinds: the status they give and whether they look at the clause or the whole sentence.
CUE_SCOPES = {"negated": "clause", "past": "clause", "hypothetical": "clause",
              "past_sentence": "sentence", "hypothetical_sentence": "sentence"}
GAP = {"IS_PUNCT": False, "IS_SPACE": False, "OP": "{0,6}"}
_CLAUSE_BREAKS = frozenset({",", ".", ";", ":", "!", "?", "aber", "sondern", "doch", "jedoch", "trotzdem",
                            "obwohl", "weil", "dass", "da", "und", "oder", "-", "(", ")"})


@dataclass(frozen=True)
class Evidence:
    """One rule match: which rule, for which label, where in the text, in which context."""

    rule: str
    label: str
    start: int
    end: int
    text: str
    status: str = ACTIVE
    field: str = "text"

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    def as_dict(self) -> dict:
        return {"rule": self.rule, "label": self.label, "field": self.field, "start": self.start,
                "end": self.end, "text": self.text, "status": self.status}


MAX_EXPANSION = 512


def compile_pattern(source: str, nlp: Language) -> tuple[list[list[dict]], list[tuple[str, object]]]:
    """One pattern of the rule language → (spaCy Matcher token patterns, required tokens).

    Alternatives (`a|b`) are expanded into separate patterns of exact attributes, which the
    Matcher compares in compiled code (a set predicate per token is far slower); a pattern with
    more than MAX_EXPANSION combinations keeps set predicates instead. The required tokens
    (kind, values) are the non-optional words: a sentence lacking any of them cannot match,
    which lets the Matcher skip most sentences.
    """
    slots: list[list[dict]] = []
    required: list[tuple[str, object]] = []
    for word in source.split():
        if word == "...":
            slots.append([dict(GAP)])
            continue
        optional = word.endswith("?") and len(word) > 1
        word = word.rstrip("?") if optional else word
        if word.startswith("="):
            values = frozenset(w.lstrip("=").lower() for w in word.split("|"))
            attr, need = "LOWER", ("lower", values)
        elif word.endswith("*"):
            prefixes = tuple(fold(w.rstrip("*")) for w in word.split("|"))
            attr, values = "REGEX", frozenset(["^(?:" + "|".join(prefixes) + ")"])
            need = ("prefix", prefixes)
        else:
            words = word.split("|")
            values = frozenset(NUM if w == NUM else norm_of(w, nlp) for w in words) | {fold(w) for w in words}
            attr, need = "NORM", ("norm", values)
        options = ([{"NORM": {"REGEX": v}} for v in values] if attr == "REGEX"
                   else [{attr: v} for v in sorted(values)])
        if optional:
            options = [{**o, "OP": "?"} for o in options]
        else:
            required.append(need)
        slots.append(options)
    combinations = 1
    for options in slots:
        combinations *= len(options)
    if combinations > MAX_EXPANSION:
        slots = [[_as_set(options)] if len(options) > 1 else options for options in slots]
    return [list(p) for p in itertools.product(*slots)], required


def _as_set(options: list[dict]) -> dict:
    attr = next(k for k in options[0] if k != "OP")
    spec = {attr: {"IN": [o[attr] for o in options]}}
    if "OP" in options[0]:
        spec["OP"] = options[0]["OP"]
    return spec


class _Patterns:
    """Patterns with a cheap pre-check: a pattern's Matcher runs only where its required tokens occur.

    The pre-check looks at the doc's distinct norm and lower-case ids (one numpy call, no
    per-token Python objects), so most patterns cost nothing on most messages.
    """

    def __init__(self, nlp: Language) -> None:
        self.nlp = nlp
        self.strings = nlp.vocab.strings
        self.entries: list[tuple[str, Matcher, int]] = []  # (key, its matcher, number of requirements)
        self.by_norm: dict[int, list[tuple[int, int]]] = {}
        self.by_lower: dict[int, list[tuple[int, int]]] = {}
        self.prefixes: list[tuple[tuple[str, ...], int, int]] = []
        self._hits: dict[int, list[tuple[int, int]]] = {}

    def add(self, key: str, source: str) -> None:
        patterns, required = compile_pattern(source, self.nlp)
        matcher = Matcher(self.nlp.vocab)
        matcher.add(key, patterns)
        index = len(self.entries)
        self.entries.append((key, matcher, len(required)))
        self._hits.clear()
        for slot, (kind, values) in enumerate(required):
            if kind == "prefix":
                self.prefixes.append((values, index, slot))
                continue
            table = self.by_norm if kind == "norm" else self.by_lower
            for value in values:
                table.setdefault(self.strings.add(value), []).append((index, slot))

    def _hits_for_norm(self, norm_id: int) -> list[tuple[int, int]]:
        hits = self._hits.get(norm_id)
        if hits is None:
            norm = self.strings[norm_id]
            hits = [(index, slot) for prefixes, index, slot in self.prefixes if norm.startswith(prefixes)]
            hits += self.by_norm.get(norm_id, [])
            if len(self._hits) < 500_000:
                self._hits[norm_id] = hits
        return hits

    def __call__(self, doc: Doc) -> list[tuple[str, int, int]]:
        """Matches as (key, start, end) token offsets; each pattern's Matcher runs only on the
        sentences that hold all of its required tokens."""
        ids = doc.to_array([NORM, LOWER, SENT_START]).astype(numpy.int64)
        if not len(ids):
            return []
        sentence = numpy.cumsum(ids[:, 2] == 1) - 1
        bounds = numpy.flatnonzero(ids[:, 2] == 1).tolist() + [len(ids)]
        if not bounds or bounds[0] != 0:
            bounds.insert(0, 0)
            sentence = sentence + 1
        norms, lowers = ids[:, 0].astype(numpy.uint64), ids[:, 1].astype(numpy.uint64)
        hits = {n: h for n in set(norms.tolist()) if (h := self._hits_for_norm(n))}
        lower_hits = {n: h for n in set(lowers.tolist()) if (h := self.by_lower.get(n))}
        found: dict[int, dict[int, set[int]]] = {}
        for table, column in ((hits, norms), (lower_hits, lowers)):
            if not table:
                continue
            for i in numpy.flatnonzero(numpy.isin(column, numpy.fromiter(table, dtype=numpy.uint64))).tolist():
                for index, slot in table[int(column[i])]:
                    found.setdefault(index, {}).setdefault(slot, set()).add(int(sentence[i]))
        out = []
        for index, slots in found.items():
            key, matcher, needed = self.entries[index]
            if len(slots) < needed:
                continue
            for s in sorted(set.intersection(*slots.values())):
                lo, hi = bounds[s], bounds[s + 1]
                out.extend((key, lo + start, lo + end) for _, start, end in matcher(doc[lo:hi]))
        return out


class RuleSet:
    """Signals and context cues of one rule file, compiled for one pipeline."""

    def __init__(self, name: str, spec: dict, nlp: Language, source: str = "") -> None:
        self.name = name
        self.labels: dict[str, str] = {}
        self.overrides: set[str] = set()
        self._signals = _Patterns(nlp)
        self._cues = _Patterns(nlp)
        try:
            for signal in spec.get("signal", []):
                rule = signal["id"]
                self.labels[rule] = signal["label"]
                if signal.get("override"):
                    self.overrides.add(rule)
                for pattern in signal["patterns"]:
                    self._signals.add(rule, pattern)
            for kind, patterns in spec.get("cues", {}).items():
                if kind not in CUE_SCOPES:
                    raise ValueError(f"unknown cue kind {kind!r}")
                for pattern in patterns:
                    self._cues.add(kind, pattern)
        except (KeyError, ValueError, TypeError) as exc:
            raise TaxonomyError("T004", path=source or name, reason=f"Regel fehlerhaft: {exc}") from exc

    def find(self, doc: Doc) -> list[Evidence]:
        """All signal matches in `doc`, longest first where they overlap, with their status."""
        matches = sorted(self._signals(doc), key=lambda m: (m[1], -(m[2] - m[1])))
        if not matches:
            return []
        cues = self._cues(doc)
        found: list[Evidence] = []
        taken: set[int] = set()
        for rule, start, end in matches:
            if taken.intersection(range(start, end)):
                continue
            taken.update(range(start, end))
            span = doc[start:end]
            found.append(Evidence(rule, self.labels[rule], span.start_char, span.end_char, span.text,
                                  _status(doc, span, cues)))
        return found


def _clause(doc: Doc, span: Span) -> tuple[int, int]:
    start = span.start
    while start > span.sent.start and not _is_break(doc[start - 1]):
        start -= 1
    end = span.end
    while end < span.sent.end and not _is_break(doc[end]):
        end += 1
    return start, end


def _is_break(token) -> bool:
    return token.is_space or token.norm_ in _CLAUSE_BREAKS or "\n" in token.text


def _status(doc: Doc, span: Span, cues: list[tuple[str, int, int]]) -> str:
    clause = _clause(doc, span)
    sentence = (span.sent.start, span.sent.end)
    for kind, start, end in cues:
        lo, hi = clause if CUE_SCOPES[kind] == "clause" else sentence
        if start < lo or end > hi:
            continue
        if start < span.end and span.start < end:  # the cue is part of the signal itself
            continue
        return kind.split("_")[0]
    return ACTIVE


def load_rules(path: str | Path, nlp: Language) -> RuleSet:
    path = Path(path)
    try:
        spec = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise TaxonomyError("T001", path=path, reason=str(exc)) from exc
    return RuleSet(path.stem, spec, nlp, str(path))
