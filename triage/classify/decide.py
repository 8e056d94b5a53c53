"""From probabilities and rule evidence to labels: the decision rules in one place.

Pure functions: `decide` takes a message's `Scores`, its `Analysis` (for rule evidence) and the
model's thresholds and returns the labels, the evidence shown to staff and `needs_review`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..taxonomy import Taxonomy
from .features import Analysis
from .model import Scores
from .routing import route

__all__ = ["Decision", "decide", "REVIEW"]

NOT_MEDIATION = "kein_wechsel"  # label of mediation-rule signals that speak against a request
# When is the model unsure enough that a person should look first? The crisis threshold is tuned
# for recall, so a crisis is also marked unsure when the model itself gives it less than
# `crisis_sure` (alarming words in a calm message: a quoted scam SMS, a threat that is over).
REVIEW = {"first_concern": 0.45, "absender_margin": 0.15, "urgency_margin": 0.5, "crisis_sure": 0.7}


@dataclass
class Decision:
    concerns: list[str]
    art: str
    urgency: str
    absender: str
    routing: str
    routing_reason: str
    mediation: bool
    needs_review: bool
    review_reasons: list[str] = field(default_factory=list)
    evidence: dict[str, list[dict]] = field(default_factory=dict)


def _concerns(scores: Scores, thresholds: dict[str, float], limit: int) -> list[str]:
    ranked = sorted(scores.concerns.items(), key=lambda kv: -kv[1])
    first, rest = ranked[0][0], ranked[1:]
    extra = [code for code, p in rest if p >= thresholds.get(code, 0.5)]
    return [first] + extra[: limit - 1]


def _urgency(scores: Scores, analysis: Analysis, thresholds: dict, taxonomy: Taxonomy,
             overrides: set[str], rule_override: bool) -> tuple[str, bool]:
    """Existence threat first (tuned for recall), then the other levels; returns (level, by_rule)."""
    crisis = taxonomy.crisis_urgency
    if scores.urgency.get(crisis, 0.0) >= thresholds[crisis]:
        return crisis, False
    if rule_override and any(e.rule in overrides and e.label == crisis for e in analysis.active("urgency")):
        return crisis, True
    normal = taxonomy.values("urgency")[-1]
    others = [(c, p) for c, p in scores.urgency.items() if c not in (crisis, normal) and p >= thresholds.get(c, 0.5)]
    if others:
        return max(others, key=lambda cp: cp[1])[0], False
    return normal, False


def decide(scores: Scores, analysis: Analysis, thresholds: dict, taxonomy: Taxonomy,
           overrides: set[str] = frozenset(), rule_override: bool = True) -> Decision:
    concerns = _concerns(scores, thresholds["concerns"], taxonomy.max_concerns)
    art = max(scores.art, key=scores.art.get)
    urgency, by_rule = _urgency(scores, analysis, thresholds["urgency"], taxonomy, overrides, rule_override)
    p_third = scores.absender.get(taxonomy.third_party, 0.0)
    others = [a for a in taxonomy.values("absender") if a != taxonomy.third_party]
    absender = taxonomy.third_party if p_third >= thresholds["absender"] else others[0]
    mediation = scores.mediation >= thresholds["mediation"]
    routing, reason = route(taxonomy, concerns, urgency, absender, mediation)
    evidence = {
        "urgency": [e.as_dict() for e in analysis.active("urgency") if e.label == urgency],
        "absender": [e.as_dict() for e in analysis.active("absender")] if absender == taxonomy.third_party else [],
        "routing": [e.as_dict() for e in analysis.active("mediation") if e.label != NOT_MEDIATION]
        if mediation else [],
    }
    reasons = _review_reasons(scores, thresholds, taxonomy, concerns, urgency, p_third, by_rule)
    return Decision(concerns, art, urgency, absender, routing, reason, mediation, bool(reasons), reasons, evidence)


def _review_reasons(scores: Scores, thresholds: dict, taxonomy: Taxonomy, concerns: list[str], urgency: str,
                    p_third: float, by_rule: bool) -> list[str]:
    reasons = []
    if scores.concerns[concerns[0]] < REVIEW["first_concern"]:
        reasons.append("Thema unsicher")
    if abs(p_third - thresholds["absender"]) < REVIEW["absender_margin"]:
        reasons.append("Absender unsicher")
    crisis = taxonomy.crisis_urgency
    p_crisis, t_crisis = scores.urgency.get(crisis, 0.0), thresholds["urgency"][crisis]
    if urgency == crisis:
        unsure = by_rule or p_crisis < REVIEW["crisis_sure"]
    else:
        unsure = p_crisis >= t_crisis * REVIEW["urgency_margin"]
    if unsure:
        reasons.append("Dringlichkeit unsicher")
    return reasons
