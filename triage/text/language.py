"""Language of a message body, restricted to the languages a Jobcenter office sees.

Uses lingua (a well-kept detector that works on short texts). Restricting the candidate set
keeps it fast and stops short German lines from being taken for Dutch or Danish.
"""
from __future__ import annotations

import re
from functools import lru_cache

from lingua import IsoCode639_1, LanguageDetectorBuilder

__all__ = ["detect_language", "DEFAULT_LANGUAGES"]

DEFAULT_LANGUAGES = ("de", "en", "uk", "ru", "ar", "tr", "pl", "ro", "fa", "es", "fr", "it", "sq", "bg", "vi")
# Frequent German function words: a Latin-script text made of enough of them is German, and
# the detector need not run (most mail is German, so this keeps batches fast).
_GERMAN_WORDS = frozenset(
    "der die das und ich nicht ist ein eine einen mit sie es zu den von auf für fuer sich mein meine "
    "meinen wir sind haben habe hat bitte seit noch auch wie was bei dem im ihr ihnen mir mich dass "
    "aber wurde wird kein keine oder nach vom zum zur über ueber schon nur wenn weil".split())
LONG_TEXT = 200  # characters; above this the fast (trigram) mode is as accurate
_WORD = re.compile(r"[^\W\d_]+")
_NON_LATIN = re.compile(r"[\u0370-\u03ff\u0400-\u04ff\u0590-\u06ff\u0750-\u077f\u0e00-\u0e7f\u3040-\u9fff]")


@lru_cache(maxsize=8)
def _detector(codes: tuple[str, ...], long_text: bool):
    """Models are loaded up front (no slow first calls); long texts need only trigrams."""
    isos = [getattr(IsoCode639_1, code.upper()) for code in codes]
    builder = LanguageDetectorBuilder.from_iso_codes_639_1(*isos).with_preloaded_language_models()
    return (builder.with_low_accuracy_mode() if long_text else builder).build()


def detect_language(text: str, codes: tuple[str, ...] = DEFAULT_LANGUAGES, default: str = "de") -> str:
    """ISO 639-1 code of `text`'s language; `default` when the text gives no clear answer."""
    sample = text[:1000]
    words = _WORD.findall(sample.lower())
    if len(words) < 2:
        return default
    if "de" in codes and not _NON_LATIN.search(sample):
        if sum(w in _GERMAN_WORDS for w in words) >= max(2, 0.15 * len(words)):
            return "de"
    language = _detector(codes, len(sample) > LONG_TEXT).detect_language_of(sample)
    return default if language is None else language.iso_code_639_1.name.lower()
