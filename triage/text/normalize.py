"""Normalising German message text before tokenisation, and folding words for matching.

`clean` keeps the text readable (it is what staff see and what evidence offsets refer to);
`fold` is the matching form: lower case, umlauts spelled out (ä → ae, ß → ss), so that
"Bürgergeld", "Buergergeld" and "BÜRGERGELD" meet.
"""
from __future__ import annotations

import re
import unicodedata

__all__ = ["clean", "fold", "restore_umlaut_candidates"]

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_MANY_BLANK_LINES = re.compile(r"\n\s*\n(\s*\n)+")
_QUOTES = str.maketrans({"„": '"', "“": '"', "”": '"', "‚": "'", "‘": "'", "’": "'", "–": "-", "—": "-", "…": "..."})
_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "è": "e", "à": "a", "á": "a"})


def clean(text: str) -> str:
    """Unicode NFC, no invisible characters, plain quotes and dashes, tidy whitespace."""
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE).translate(_QUOTES)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _MANY_BLANK_LINES.sub("\n\n", text).strip()


def fold(word: str) -> str:
    """Matching form of a word or phrase: lower case, umlauts and ß spelled out."""
    return word.lower().translate(_FOLD)


_DIGRAPH = re.compile(r"ae|oe|ue|ss", re.IGNORECASE)
_UMLAUT = {"ae": "ä", "oe": "ö", "ue": "ü", "ss": "ß", "Ae": "Ä", "Oe": "Ö", "Ue": "Ü", "AE": "Ä", "OE": "Ö", "UE": "Ü"}


def restore_umlaut_candidates(word: str, limit: int = 3) -> list[str]:
    """Spellings of `word` with spelled-out umlauts turned back ("koennen" → "können").

    Used to find a word written without umlauts in the lemma table. At most `limit` digraphs
    are varied, so a word yields at most 2**limit candidates, the most converted first.
    """
    spots = [m for m in _DIGRAPH.finditer(word)][:limit]
    if not spots:
        return []
    out: list[str] = []
    for mask in range(2 ** len(spots) - 1, 0, -1):
        parts, last = [], 0
        for bit, m in enumerate(spots):
            parts.append(word[last:m.start()])
            chunk = m.group(0)
            parts.append(_UMLAUT.get(chunk, chunk) if mask >> bit & 1 else chunk)
            last = m.end()
        parts.append(word[last:])
        out.append("".join(parts))
    return out
