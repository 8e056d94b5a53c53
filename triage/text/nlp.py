"""The German spaCy pipeline: blank German tokenizer, a sentence splitter, and a `krm_norm` component
that writes each token's matching form into `token.norm_`, using the German lemma lookup table
of spacy-lookups-data (what spaCy's lookup lemmatizer uses).

The matching form is the folded lemma ("Räumungsklagen" → "raeumungsklage"), with spelled-out
umlauts restored before the lemma lookup ("koennen" → "können" → "koennen"), and SGB II
abbreviations expanded ("WBA" → "weiterbewilligungsantrag"). Rules and features read norms only.
"""
from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

import numpy
import spacy
from spacy.attrs import IS_SPACE, NORM, ORTH, SENT_START
from spacy.language import Language
from spacy.lookups import load_lookups
from spacy.tokens import Doc

from .normalize import fold, restore_umlaut_candidates

__all__ = ["get_nlp", "norm_of", "NUM"]

NUM = "#num"


class KrmNorm:
    """Sets `token.norm_` to the matching form; see the module docstring.

    Works on whole arrays of token ids (no per-token Python objects) and caches the norm of
    every word form it has seen, so long batches stay fast.
    """

    def __init__(self, nlp: Language, abbreviations: dict[str, str]) -> None:
        self.abbreviations = abbreviations
        self.strings = nlp.vocab.strings
        self.table = load_lookups("de", ["lemma_lookup"]).get_table("lemma_lookup")
        self._known = frozenset(self.table.values())
        self.norm = lru_cache(maxsize=200_000)(self._norm)
        self._norm_ids: dict[int, int] = {}

    def __call__(self, doc: Doc) -> Doc:
        orths = doc.to_array([ORTH])
        norms = numpy.fromiter((self._norm_id(int(o)) for o in orths), dtype=numpy.uint64, count=len(orths))
        doc.from_array([NORM], norms.reshape(-1, 1))
        return doc

    def _norm_id(self, orth: int) -> int:
        norm = self._norm_ids.get(orth)
        if norm is None:
            norm = self.strings.add(self.norm(self.strings[orth]))
            if len(self._norm_ids) < 500_000:
                self._norm_ids[orth] = norm
        return norm

    def _lemma(self, word: str) -> str:
        for form in (word, word.capitalize(), word.lower()):
            if form in self.table:
                return self.table[form]
        for candidate in restore_umlaut_candidates(word):
            for form in (candidate, candidate.capitalize(), candidate.lower()):
                if form in self.table:
                    return self.table[form]
                if form in self._known:
                    return form
        return word

    def _norm(self, word: str) -> str:
        if word in self.abbreviations:
            return self.abbreviations[word]
        if any(ch.isdigit() for ch in word):
            return NUM
        return fold(self._lemma(word))


_SENTENCE_END = frozenset({".", "!", "?", "...", "!!", "!!!", "??", "?!", "!?"})


@Language.component("krm_sentences")
def krm_sentences(doc: Doc) -> Doc:
    """Sentence starts after ., ! or ? and after line breaks (mail is written in lines);
    array-based, so it costs next to nothing per message."""
    if not len(doc):
        return doc
    strings = doc.vocab.strings
    orths = doc.to_array([ORTH, IS_SPACE])
    ends = numpy.isin(orths[:, 0], numpy.array([strings.add(p) for p in _SENTENCE_END], dtype=numpy.uint64))
    for i in numpy.flatnonzero(orths[:, 1]).tolist():
        ends[i] = ends[i] or "\n" in strings[int(orths[i, 0])]
    starts = numpy.full(len(doc), -1, dtype=numpy.int64)
    starts[0] = 1
    starts[1:][ends[:-1]] = 1
    doc.from_array([SENT_START], starts.astype(numpy.uint64).reshape(-1, 1))
    return doc


@Language.factory("krm_norm", default_config={"abbreviations_path": ""})
def _make_krm_norm(nlp: Language, name: str, abbreviations_path: str) -> KrmNorm:
    abbreviations: dict[str, str] = {}
    if abbreviations_path:
        abbreviations = tomllib.loads(Path(abbreviations_path).read_text(encoding="utf-8"))["abbreviations"]
    return KrmNorm(nlp, abbreviations)


@lru_cache(maxsize=2)
def _build(rules_dir: str) -> Language:
    nlp = spacy.blank("de")
    nlp.add_pipe("krm_sentences")
    nlp.add_pipe("krm_norm", config={"abbreviations_path": str(Path(rules_dir) / "abbreviations.toml")})
    return nlp


def get_nlp(rules_dir: str | Path | None = None) -> Language:
    """The shared pipeline (built once per process)."""
    if rules_dir is None:
        from ..config import get_settings

        rules_dir = get_settings().rules_dir
    return _build(str(rules_dir))


def norm_of(word: str, nlp: Language | None = None) -> str:
    """Matching form of one word, as the pipeline would write it."""
    nlp = nlp or get_nlp()
    return nlp.get_pipe("krm_norm").norm(word)
