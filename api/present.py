"""Turning stored records into what the API and the UI show: one place, so they never disagree."""
from __future__ import annotations

from datetime import UTC, datetime

from triage.store.messages import current_prediction, deadline
from triage.store.tables import Message


def days_left(message: Message, now: datetime | None = None) -> int:
    now = now or datetime.now(UTC)
    return (deadline(message).date() - now.date()).days


def labels_of(message: Message) -> dict:
    return {"concerns": list(message.concerns), "art": message.art, "urgency": message.urgency,
            "absender": message.absender, "routing": message.unit, "language": message.language}


def message_out(message: Message) -> dict:
    return {"id": message.id, "version": message.version, "channel": message.channel, "subject": message.subject,
            "received_at": message.received_at, "deadline": deadline(message), "days_left": days_left(message),
            "status": message.status, "closed_at": message.closed_at, "labels": labels_of(message),
            "needs_review": message.needs_review, "confidence": round(message.confidence, 4),
            "reviewed": message.reviewed, "begruendet": message.begruendet}


def prediction_out(message: Message) -> dict | None:
    p = current_prediction(message)
    if p is None:
        return None
    return {"model_version": p.model_version, "labels": p.labels, "scores": p.scores, "evidence": p.evidence,
            "needs_review": p.needs_review, "review_reasons": p.review_reasons, "routing_reason": p.routing_reason,
            "created_at": p.created_at}


def message_detail(message: Message) -> dict:
    reviews = [{"reviewer": r.reviewer, "action": r.action, "labels": r.labels, "status": r.status,
                "begruendet": r.begruendet, "note": r.note, "created_at": r.created_at} for r in message.reviews]
    return {**message_out(message), "text": message.text, "prediction": prediction_out(message), "reviews": reviews}


def highlighted(text: str, evidence: dict | None) -> list[tuple[str, bool]]:
    """The text cut into (piece, is_evidence) parts for safe highlighting (pieces are escaped
    by the template, never marked safe)."""
    spans = sorted({(e["start"], e["end"]) for items in (evidence or {}).values() for e in items
                    if e.get("field", "text") == "text" and 0 <= e["start"] < e["end"] <= len(text)})
    parts, position = [], 0
    for start, end in spans:
        if start < position:
            continue
        if start > position:
            parts.append((text[position:start], False))
        parts.append((text[start:end], True))
        position = end
    if position < len(text):
        parts.append((text[position:], False))
    return parts
