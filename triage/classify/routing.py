"""Routing by the rules of the label specification, with the reason in words staff read.

1. The crisis unit (Ombudsstelle) when a third party writes, when the writer asks for
   mediation or a new contact person, or when the message is existence-threatening.
2. Otherwise the unit of the first concern's area, as the category tree says.
"""
from __future__ import annotations

from ..taxonomy import Taxonomy

__all__ = ["route"]


def route(taxonomy: Taxonomy, concerns: list[str], urgency: str, absender: str, mediation: bool) -> tuple[str, str]:
    """The unit for a message and why, from its (predicted or reviewed) labels."""
    crisis = taxonomy.units[taxonomy.crisis_unit]
    if urgency == taxonomy.crisis_urgency:
        return taxonomy.crisis_unit, f"existenzbedrohend: Krisenintervention durch die {crisis}"
    if absender == taxonomy.third_party:
        return taxonomy.crisis_unit, f"Dritte schreiben für Betroffene: Unterstützung durch die {crisis}"
    if mediation:
        return taxonomy.crisis_unit, f"Bitte um Vermittlung oder neue Ansprechperson: {crisis}"
    area = taxonomy.area_of(concerns[0])
    unit = taxonomy.area_units[area]
    return unit, f"Zuständigkeit des Bereichs {taxonomy.area_names[area]}: {taxonomy.units[unit]}"
