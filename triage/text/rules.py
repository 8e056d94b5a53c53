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
from spacy.attrs import IS_SPACE, LOWER, NORM, SENT_START
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc

from ..errors import TaxonomyError
from .nlp import NUM, norm_of
from .normalize import fold

__all__ = ["Evidence", "RuleSet", "DocIndex", "load_rules", "ACTIVE"]

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
CACHE_LIMIT = 500_000  # distinct norms remembered per pattern set


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
        self._seen: set[int] = set()

    def add(self, key: str, source: str) -> None:
        patterns, required = compile_pattern(source, self.nlp)
        matcher = Matcher(self.nlp.vocab)
        matcher.add(key, patterns)
        index = len(self.entries)
        self.entries.append((key, matcher, len(required)))
        self._hits.clear()
        self._seen.clear()
        for slot, (kind, values) in enumerate(required):
            if kind == "prefix":
                self.prefixes.append((values, index, slot))
                continue
            table = self.by_norm if kind == "norm" else self.by_lower
            for value in values:
                table.setdefault(self.strings.add(value), []).append((index, slot))

    def _hits_for(self, norm_ids: set[int]) -> dict[int, list[tuple[int, int]]]:
        """Pattern slots each norm satisfies, for the norms that satisfy any; set operations
        on a per-norm cache, so a known vocabulary costs no Python loop."""
        uncached: dict[int, list[tuple[int, int]]] = {}
        for norm_id in norm_ids - self._seen:
            norm = self.strings[norm_id]
            hits = [(index, slot) for prefixes, index, slot in self.prefixes if norm.startswith(prefixes)]
            hits += self.by_norm.get(norm_id, [])
            if len(self._seen) < CACHE_LIMIT:
                self._seen.add(norm_id)
                if hits:
                    self._hits[norm_id] = hits
            elif hits:
                uncached[norm_id] = hits
        return {**{n: self._hits[n] for n in norm_ids & self._hits.keys()}, **uncached}

    def __call__(self, doc: Doc, index: DocIndex) -> list[tuple[str, int, int]]:
        """Matches as (key, start, end) token offsets; each pattern's Matcher runs only on the
        sentences that hold all of its required tokens."""
        hits = self._hits_for(index.unique_norms)
        lower_hits = {n: h for n in index.unique_lowers if (h := self.by_lower.get(n))}
        found: dict[int, dict[int, set[int]]] = {}
        for table, column in ((hits, index.norms), (lower_hits, index.lowers)):
            if not table:
                continue
            for i in numpy.flatnonzero(numpy.isin(column, numpy.fromiter(table, dtype=numpy.uint64))).tolist():
                for entry, slot in table[int(column[i])]:
                    found.setdefault(entry, {}).setdefault(slot, set()).add(index.sentence[i])
        out = []
        for entry, slots in found.items():
            key, matcher, needed = self.entries[entry]
            if len(slots) < needed:
                continue
            for s in sorted(set.intersection(*slots.values())):
                lo, hi = index.bounds[s], index.bounds[s + 1]
                out.extend((key, lo + start, lo + end) for _, start, end in matcher(doc[lo:hi]))
        return out


class DocIndex:
    """Token arrays of one doc, computed once and shared by every rule set: norm and lower-case
    ids, sentence of each token, sentence bounds, and which tokens break a clause."""

    def __init__(self, doc: Doc) -> None:
        ids = doc.to_array([NORM, LOWER, SENT_START, IS_SPACE])
        self.norms = ids[:, 0].astype(numpy.uint64) if len(ids) else numpy.zeros(0, dtype=numpy.uint64)
        self.lowers = ids[:, 1].astype(numpy.uint64) if len(ids) else numpy.zeros(0, dtype=numpy.uint64)
        starts = (ids[:, 2].astype(numpy.int64) == 1) if len(ids) else numpy.zeros(0, dtype=bool)
        if len(starts):
            starts[0] = True
        self.sentence = (numpy.cumsum(starts) - 1).tolist()
        self.bounds = numpy.flatnonzero(starts).tolist() + [len(ids)]
        self.unique_norms = set(self.norms.tolist())
        self.unique_lowers = set(self.lowers.tolist())
        strings = doc.vocab.strings
        breaks = numpy.isin(self.norms, numpy.array([strings.add(b) for b in _CLAUSE_BREAKS], dtype=numpy.uint64))
        if len(ids):
            breaks |= ids[:, 3].astype(bool)
        self.breaks = breaks.tolist()

    def sentence_of(self, token: int) -> tuple[int, int]:
        s = self.sentence[token]
        return self.bounds[s], self.bounds[s + 1]

    def clause_of(self, start: int, end: int) -> tuple[int, int]:
        lo, hi = self.sentence_of(start)
        while start > lo and not self.breaks[start - 1]:
            start -= 1
        while end < hi and not self.breaks[end]:
            end += 1
        return start, end


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

    def find(self, doc: Doc, index: DocIndex | None = None) -> list[Evidence]:
        """All signal matches in `doc`, longest first where they overlap, with their status."""
        index = index or DocIndex(doc)
        matches = sorted(self._signals(doc, index), key=lambda m: (m[1], -(m[2] - m[1])))
        if not matches:
            return []
        cues = self._cues(doc, index)
        found: list[Evidence] = []
        taken: set[int] = set()
        for rule, start, end in matches:
            if taken.intersection(range(start, end)):
                continue
            taken.update(range(start, end))
            span = doc[start:end]
            found.append(Evidence(rule, self.labels[rule], span.start_char, span.end_char, span.text,
                                  _status(index, start, end, cues)))
        return found


def _status(index: DocIndex, start: int, end: int, cues: list[tuple[str, int, int]]) -> str:
    clause = index.clause_of(start, end)
    sentence = index.sentence_of(start)
    for kind, cue_start, cue_end in cues:
        lo, hi = clause if CUE_SCOPES[kind] == "clause" else sentence
        if cue_start < lo or cue_end > hi:
            continue
        if cue_start < end and start < cue_end:  # the cue is part of the signal itself
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
