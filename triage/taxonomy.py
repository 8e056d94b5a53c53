"""The KRM category tree, loaded from a TOML data file and validated.

The tree is configuration: codes, names, definitions, the unit each area routes to, and the
values of the other label fields. Nothing in the code lists topic codes.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .errors import TaxonomyError

__all__ = ["Taxonomy", "Topic", "load_taxonomy", "default_taxonomy"]

_ATOM = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Topic:
    code: str
    area: str
    name: str
    definition: str


@dataclass(frozen=True)
class Taxonomy:
    """A validated category tree. `topics` keeps the file's order."""

    version: str
    topics: tuple[Topic, ...]
    area_units: dict[str, str]
    area_names: dict[str, str]
    units: dict[str, str]
    fields: dict[str, tuple[str, ...]]
    max_concerns: int
    crisis_unit: str
    crisis_urgency: str
    third_party: str
    fallback_topic: str = ""
    source: str = ""
    _by_code: dict[str, Topic] = field(default_factory=dict, repr=False, compare=False)

    @property
    def codes(self) -> list[str]:
        return [t.code for t in self.topics]

    @property
    def areas(self) -> list[str]:
        return list(self.area_units)

    def topic(self, code: str) -> Topic:
        return self._by_code[code]

    def has(self, code: str) -> bool:
        return code in self._by_code

    def area_of(self, code: str) -> str:
        return code.split(".", 1)[0]

    def unit_of(self, code: str) -> str:
        return self.area_units[self.area_of(code)]

    def values(self, field_name: str) -> tuple[str, ...]:
        """Allowed values of a label field (`art`, `urgency`, `absender`, `routing`)."""
        if field_name == "routing":
            return tuple(self.units)
        return self.fields[field_name]


def load_taxonomy(path: str | Path) -> Taxonomy:
    """Read and validate a tree file; every problem becomes a TaxonomyError naming the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TaxonomyError("T001", path=path, reason=str(exc)) from exc
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        duplicate = _duplicate_key(str(exc), text)
        if duplicate:
            raise TaxonomyError("T002", path=path, code=duplicate) from exc
        raise TaxonomyError("T001", path=path, reason=str(exc)) from exc
    return _build(raw, str(path))


def _duplicate_key(error: str, text: str) -> str | None:
    """TOML refuses a key defined twice; name that key (as `area.topic` where possible)."""
    if "overwrite" not in error and "Cannot declare" not in error:
        return None
    where = re.search(r"line (\d+)", error)
    if not where:
        return None
    lines = text.splitlines()
    line = lines[int(where.group(1)) - 1].strip()
    key = line.split("=", 1)[0].strip().strip("[]")
    header = next((ln.strip().strip("[]") for ln in reversed(lines[: int(where.group(1)) - 1])
                   if ln.strip().startswith("[")), "")
    area = header.removeprefix("areas.").removesuffix(".topics")
    return f"{area}.{key}" if header.startswith("areas.") and "=" in line else key


def _build(raw: dict, source: str) -> Taxonomy:
    def fail(reason: str) -> TaxonomyError:
        return TaxonomyError("T004", path=source, reason=reason)

    try:
        fields_raw = raw["fields"]
        units = dict(raw["units"])
        routing = raw["routing"]
        areas = raw["areas"]
    except KeyError as exc:
        raise fail(f"Abschnitt [{exc.args[0]}] fehlt") from exc
    fields = {name: tuple(fields_raw[name]) for name in ("art", "urgency", "absender") if name in fields_raw}
    for name in ("art", "urgency", "absender"):
        if not fields.get(name):
            raise fail(f"Feld {name} hat keine Werte")
    topics: list[Topic] = []
    seen: set[str] = set()
    area_units: dict[str, str] = {}
    area_names: dict[str, str] = {}
    for area, spec in areas.items():
        if not _ATOM.match(area):
            raise fail(f"Bereichscode {area!r} ist kein gültiger Code (a-z, 0-9, _)")
        unit = spec.get("unit")
        if unit not in units:
            raise TaxonomyError("T003", path=source, area=area, unit=unit)
        area_units[area] = unit
        area_names[area] = spec.get("name", area)
        if not spec.get("topics"):
            raise fail(f"Bereich {area} hat keine Themen")
        for topic, tspec in spec["topics"].items():
            if not _ATOM.match(topic):
                raise fail(f"Themencode {area}.{topic} ist kein gültiger Code (a-z, 0-9, _)")
            code = f"{area}.{topic}"
            if code in seen:
                raise TaxonomyError("T002", path=source, code=code)
            seen.add(code)
            topics.append(Topic(code, area, tspec.get("name", topic), tspec.get("definition", "")))
    for key in ("crisis_unit", "crisis_urgency", "third_party"):
        if key not in routing:
            raise fail(f"routing.{key} fehlt")
    if routing["crisis_unit"] not in units:
        raise fail(f"routing.crisis_unit {routing['crisis_unit']!r} ist keine bekannte Stelle")
    if routing["crisis_urgency"] not in fields["urgency"]:
        raise fail(f"routing.crisis_urgency {routing['crisis_urgency']!r} ist keine Dringlichkeit")
    if routing["third_party"] not in fields["absender"]:
        raise fail(f"routing.third_party {routing['third_party']!r} ist kein Absendertyp")
    max_concerns = int(fields_raw.get("max_concerns", 3))
    fallback = fields_raw.get("fallback_topic", topics[-1].code if topics else "")
    if fallback not in seen:
        raise fail(f"fields.fallback_topic {fallback!r} ist kein Thema des Baums")
    return Taxonomy(
        version=str(raw.get("version", "")),
        topics=tuple(topics),
        area_units=area_units,
        area_names=area_names,
        units=units,
        fields=fields,
        max_concerns=max_concerns,
        crisis_unit=routing["crisis_unit"],
        crisis_urgency=routing["crisis_urgency"],
        third_party=routing["third_party"],
        fallback_topic=fallback,
        source=source,
        _by_code={t.code: t for t in topics},
    )


@lru_cache(maxsize=4)
def _cached(path: str) -> Taxonomy:
    return load_taxonomy(path)


def default_taxonomy() -> Taxonomy:
    """The tree named by the settings (TRIAGE_TAXONOMY_PATH), or the shipped default."""
    from .config import get_settings

    return _cached(str(get_settings().taxonomy_path))
