"""Personal data out of what the models read: names, addresses, dates of birth, e-mail addresses,
phone numbers, IBANs, BG and customer numbers become placeholders (`#name`, `#adresse`, ...)
before featurisation.

A model file then holds no client's name or account, and a message deleted for privacy leaves
nothing of its person behind in the vocabulary. Staff still see the full text: redaction only
changes the model's input, never the stored message or the offsets of rule evidence.

`redaction_spans` is a pure function returning (start, end, placeholder) spans of a text;
`redact` applies them. Names are found where German mail marks them: after Herr/Frau, in
"mein Name ist ...", and on the line below a closing formula ("Mit freundlichen Grüßen");
addresses by their street word and house number ("Lindenweg 12a", "Leipziger Straße 3") and by
postcode and town at the start of a line or after a comma ("01067 Dresden"); dates of birth only
after "geb." or "geboren", so the dates that make a message urgent stay.
"""
from __future__ import annotations

import re

__all__ = ["redaction_spans", "redact", "PLACEHOLDERS"]

_CAP = r"[A-ZÄÖÜ][\w'’-]*"  # a capitalised word (names keep their apostrophes and hyphens)
_NAME = rf"(?:(?:Dr|Prof)\.[ \t]+)?{_CAP}(?:[ \t]+{_CAP}){{0,2}}"  # on one line
# a street: a word ending in a street word ("Lindenweg", "Bahnhofstr.") or a street word after a
# capitalised word ("Leipziger Straße"), then the house number
_STREET = (r"(?:[A-ZÄÖÜ][\w-]*(?:[Ss]tra(?:ß|ss)e|[Ss]tr\.|[Ww]eg|[Aa]llee|[Pp]latz|[Gg]asse|[Rr]ing|[Dd]amm|[Uu]fer"
           r"|[Cc]haussee|[Ss]teig)"
           r"|(?!(?:Die|Der|Das|Den|Dem|Eine?|In|Im|Auf|An|Am|Zur|Zum|Von|Vom|Über|Diese[rm]?)\b)"
           r"[A-ZÄÖÜ][\w-]*[ \t](?:Stra(?:ß|ss)e|Str\.|Allee|Platz|Gasse|Chaussee))")
_DATE = r"\d{1,2}\.[ \t]?\d{1,2}\.[ \t]?(?:19|20)?\d{2}"
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("#mail", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    ("#iban", re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,3})?\b")),
    ("#bg", re.compile(r"\b\d{5}\s?BG\s?\d{7}\b", re.IGNORECASE)),
    ("#kdnr", re.compile(r"\b\d{3}[A-Z]\d{6}\b")),  # customer number of the Bundesagentur
    ("#adresse", re.compile(rf"\b{_STREET}[ \t]?\d{{1,4}}(?:[ \t]?[a-zA-Z])?\b")),
    ("#adresse", re.compile(r"(?:^|,)[ \t]*(\d{5}[ \t]+(?!Euro\b|EUR\b)[A-ZÄÖÜ][\w-]+)", re.MULTILINE)),
    ("#geburt", re.compile(rf"\b(?:geb\.|geboren(?:[ \t]+am)?|Geburtsdatum:?)[ \t]*({_DATE})", re.IGNORECASE)),
    ("#tel", re.compile(r"(?<![\w.,])(?:(?:\+49|0049)\s?(?:\(0\)\s?)?|\(?0)[1-9]\d{1,4}\)?(?:[ /-]?\d{2,}){1,4}"
                        r"(?![\w.,]\d)")),
    ("#name", re.compile(rf"\b(?:Herrn?|Frau|Hr\.|Fr\.)[ \t]+({_NAME})")),
    ("#name", re.compile(rf"^(?:Herrn?|Frau)[ \t]*\n[ \t]*({_NAME})", re.MULTILINE)),  # address block
    ("#name", re.compile(rf"\b(?:[Mm]ein Name ist|[Ii]ch hei(?:ß|ss)e)[ \t]+({_NAME})")),
]
_CLOSING = re.compile(r"^(?:mit )?(?:freundlichen|freundliche|viele|liebe|beste|herzliche|schöne)?\s*"
                      r"(?:grüßen|grüße|gruß|gruss|grüsse|grüssen)[\s,!.]*$|^(?:mfg|lg|vg|hochachtungsvoll)[\s,!.]*$",
                      re.IGNORECASE)
_SIGNATURE_NAME = re.compile(rf"^{_NAME}$")
PLACEHOLDERS = frozenset(p for p, _ in _PATTERNS)


def redaction_spans(text: str) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, placeholder) spans of personal data in `text`, in order."""
    found: list[tuple[int, int, str]] = []
    for placeholder, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            start, end = m.span(1) if pattern.groups else m.span()
            found.append((start, end, placeholder))
    found += _signature_names(text)
    spans: list[tuple[int, int, str]] = []
    for start, end, placeholder in sorted(found, key=lambda s: (s[0], -s[1])):
        if not spans or start >= spans[-1][1]:
            spans.append((start, end, placeholder))
    return spans


def _signature_names(text: str) -> list[tuple[int, int, str]]:
    """The name line below a closing formula (at most two lines further down)."""
    out = []
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    for i, line in enumerate(lines):
        if not _CLOSING.match(line.strip()):
            continue
        for j in range(i + 1, min(i + 3, len(lines))):
            candidate = lines[j].strip()
            if not candidate:
                continue
            if _SIGNATURE_NAME.match(candidate):
                start = offsets[j] + lines[j].index(candidate)
                out.append((start, start + len(candidate), "#name"))
            break
    return out


def redact(text: str, spans: list[tuple[int, int, str]] | None = None) -> str:
    """`text` with each span replaced by its placeholder."""
    spans = redaction_spans(text) if spans is None else spans
    parts, last = [], 0
    for start, end, placeholder in spans:
        parts += [text[last:start], placeholder]
        last = end
    parts.append(text[last:])
    return "".join(parts)
