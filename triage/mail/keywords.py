"""Labels ↔ IMAP keywords: a small fixed set of keywords built from the category tree.

A tagged mail carries at most one keyword per group, so a mail client can filter and colour by it:

- area of the first concern:      `KRM_leistung`, `KRM_kommunal`, … (one per area of the tree)
- urgency above the lowest level: `KRM_existenzbedrohend`, `KRM_zeitkritisch` (none for the lowest)
- routing unit:                   `KRM_an_leistungsbereich`, `KRM_an_ombudsstelle`, …
- `KRM_pruefen` while a person should look at the suggestion, `KRM_quarantaene` for unreadable mail.

Everything is derived from the taxonomy and a configurable prefix; nothing here lists topics.
Pure functions only: the mailbox and the store are the tagger's business.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..errors import MailboxError
from ..taxonomy import Taxonomy

__all__ = ["KeywordScheme", "build_scheme", "keywords_for", "ours", "unit_from_keywords", "area_from_keywords",
           "urgency_from_keywords", "DEFAULT_PREFIX"]

DEFAULT_PREFIX = "KRM_"
# An IMAP flag keyword is an atom (RFC 3501): we allow a conservative subset that every server keeps.
_KEYWORD = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")
_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,20}$")


@dataclass(frozen=True)
class KeywordScheme:
    """The keywords of one deployment. Maps are label value → keyword."""

    prefix: str
    areas: Mapping[str, str]
    urgencies: Mapping[str, str]
    units: Mapping[str, str]
    review: str
    quarantine: str

    @property
    def all(self) -> frozenset[str]:
        return frozenset([*self.areas.values(), *self.urgencies.values(), *self.units.values(),
                          self.review, self.quarantine])


def _lower_index(scheme: KeywordScheme) -> dict[str, str]:
    return {keyword.lower(): keyword for keyword in scheme.all}


def _check(keyword: str) -> str:
    if not _KEYWORD.match(keyword):
        raise MailboxError("M209", keyword=keyword, reason="erlaubt sind A-Z, a-z, 0-9, _ . - (höchstens 64 Zeichen)")
    return keyword


def build_scheme(taxonomy: Taxonomy, prefix: str = DEFAULT_PREFIX) -> KeywordScheme:
    """The keyword set for `taxonomy`; a bad prefix or two labels sharing a keyword raise MailboxError M209."""
    if not _PREFIX.match(prefix):
        raise MailboxError("M209", keyword=prefix, reason="Präfix muss mit einem Buchstaben beginnen "
                                                          "und darf nur A-Z, a-z, 0-9, _ . - enthalten")
    levels = taxonomy.values("urgency")
    scheme = KeywordScheme(
        prefix=prefix,
        areas={area: _check(f"{prefix}{area}") for area in taxonomy.areas},
        urgencies={level: _check(f"{prefix}{level}") for level in levels[:-1]},  # the last level is the usual one
        units={unit: _check(f"{prefix}an_{unit}") for unit in taxonomy.units},
        review=_check(f"{prefix}pruefen"),
        quarantine=_check(f"{prefix}quarantaene"),
    )
    every = [*scheme.areas.values(), *scheme.urgencies.values(), *scheme.units.values(),
             scheme.review, scheme.quarantine]
    seen: set[str] = set()
    for keyword in every:
        if keyword.lower() in seen:
            raise MailboxError("M209", keyword=keyword, reason="zwei Bezeichnungen ergeben dasselbe Schlagwort")
        seen.add(keyword.lower())
    return scheme


def keywords_for(scheme: KeywordScheme, taxonomy: Taxonomy, labels: Mapping, needs_review: bool,
                 quarantined: bool = False) -> set[str]:
    """The keywords a mail with these labels should carry (one per group at most)."""
    found: set[str] = set()
    concerns = labels.get("concerns") or []
    if concerns:
        area = taxonomy.area_of(concerns[0])
        if area in scheme.areas:
            found.add(scheme.areas[area])
    if labels.get("urgency") in scheme.urgencies:
        found.add(scheme.urgencies[labels["urgency"]])
    if labels.get("routing") in scheme.units:
        found.add(scheme.units[labels["routing"]])
    if needs_review:
        found.add(scheme.review)
    if quarantined:
        found.add(scheme.quarantine)
    return found


def ours(scheme: KeywordScheme, flags: Iterable[str]) -> set[str]:
    """The flags of a mail that belong to our scheme, in our spelling (system flags and others' keywords dropped)."""
    index = _lower_index(scheme)
    return {index[flag.lower()] for flag in flags if flag.lower() in index}


def _reverse(mapping: Mapping[str, str], flags: Iterable[str]) -> list[str]:
    wanted = {flag.lower() for flag in flags}
    return [value for value, keyword in mapping.items() if keyword.lower() in wanted]


def unit_from_keywords(scheme: KeywordScheme, flags: Iterable[str]) -> str | None:
    """The routing unit a mail's keywords name; None when there is none or more than one."""
    units = _reverse(scheme.units, flags)
    return units[0] if len(units) == 1 else None


def area_from_keywords(scheme: KeywordScheme, flags: Iterable[str]) -> str | None:
    areas = _reverse(scheme.areas, flags)
    return areas[0] if len(areas) == 1 else None


def urgency_from_keywords(scheme: KeywordScheme, taxonomy: Taxonomy, flags: Iterable[str]) -> str | None:
    """The urgency the keywords name: the lowest level when there is no urgency keyword, None when ambiguous."""
    levels = _reverse(scheme.urgencies, flags)
    if not levels:
        return taxonomy.values("urgency")[-1]
    return levels[0] if len(levels) == 1 else None
