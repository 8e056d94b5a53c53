"""Storing messages with their suggestions, listing the review queue, and reviews.

Plain functions that take a session; the caller owns the transaction. A review never
overwrites history: it adds a Review row and an audit entry and updates the message's current
labels, with optimistic locking on the message's `version`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ..classify.routing import route
from ..errors import ConflictError, NotFoundError, ValidationError
from ..taxonomy import Taxonomy
from .audit import record
from .tables import Message, Prediction, Review

__all__ = ["store_message", "get_message", "list_messages", "review_message", "Filters", "STATUSES",
           "BEGRUENDET", "deadline", "current_prediction"]

STATUSES = ("neu", "in_bearbeitung", "abgeschlossen")
BEGRUENDET = ("ja", "nein", "unbekannt")
SETTLE_DAYS = 14


def deadline(message: Message) -> datetime:
    """The office's standard: a reaction is settled within 14 days of receipt."""
    received = message.received_at if message.received_at.tzinfo else message.received_at.replace(tzinfo=UTC)
    return received + timedelta(days=SETTLE_DAYS)


def _apply(message: Message, labels: dict, taxonomy: Taxonomy) -> None:
    message.concerns = list(labels["concerns"])
    message.area = taxonomy.area_of(labels["concerns"][0])
    message.art = labels["art"]
    message.urgency = labels["urgency"]
    message.urgency_rank = taxonomy.values("urgency").index(labels["urgency"])
    message.absender = labels["absender"]
    message.unit = labels["routing"]
    message.language = labels.get("language", message.language or "")


def store_message(session: Session, taxonomy: Taxonomy, *, text: str, result: dict, channel: str,
                  subject: str = "", received_at: datetime | None = None, raw: bytes | None = None,
                  idempotency_key: str | None = None, actor: str = "system",
                  source: tuple[str, int, int] | None = None) -> tuple[Message, bool]:
    """Store a message with its prediction; (message, created). A known idempotency key returns
    the message stored before, unchanged."""
    if idempotency_key:
        existing = session.scalar(select(Message).where(Message.idempotency_key == idempotency_key))
        if existing is not None:
            return existing, False
    message = Message(text=text, subject=subject or "", channel=channel, raw=raw,
                      received_at=received_at or datetime.now(UTC), idempotency_key=idempotency_key)
    if source:
        message.source_mailbox, message.source_uidvalidity, message.source_uid = source
    _apply(message, result["labels"], taxonomy)
    message.needs_review = bool(result["needs_review"])
    first = result["labels"]["concerns"][0]
    message.confidence = float(result["scores"]["concerns"].get(first, 0.0))
    message.predictions.append(Prediction(
        model_version=result["model_version"], labels=result["labels"], scores=result["scores"],
        evidence=result["evidence"], needs_review=bool(result["needs_review"]),
        review_reasons=result.get("review_reasons", []), routing_reason=result.get("routing_reason", "")))
    session.add(message)
    session.flush()
    record(session, actor, "nachricht.angelegt", message.id, channel=channel,
           model_version=result["model_version"], labels=result["labels"])
    return message, True


def get_message(session: Session, message_id: int) -> Message:
    message = session.get(Message, message_id)
    if message is None:
        raise NotFoundError("N001", id=message_id)
    return message


def current_prediction(message: Message) -> Prediction | None:
    return message.predictions[-1] if message.predictions else None


@dataclass
class Filters:
    status: str | None = None
    unit: str | None = None
    urgency: str | None = None
    area: str | None = None
    needs_review: bool | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None
    open_only: bool = False


def _where(query, f: Filters):
    if f.status:
        query = query.where(Message.status == f.status)
    if f.open_only:
        query = query.where(Message.status != "abgeschlossen")
    for column, value in ((Message.unit, f.unit), (Message.urgency, f.urgency), (Message.area, f.area)):
        if value:
            query = query.where(column == value)
    if f.needs_review is not None:
        query = query.where(Message.needs_review == f.needs_review)
    if f.received_from:
        query = query.where(Message.received_at >= f.received_from)
    if f.received_to:
        query = query.where(Message.received_at < f.received_to)
    return query


def list_messages(session: Session, filters: Filters, offset: int = 0, limit: int = 50,
                  order: str = "queue") -> tuple[list[Message], int]:
    """The review queue: most urgent first, then oldest first. `order="unsicher"` puts the
    least confident suggestions first (their corrections teach the model most)."""
    total = session.scalar(_where(select(func.count(Message.id)), filters)) or 0
    query = _where(select(Message), filters)
    if order == "unsicher":
        query = query.order_by(Message.reviewed, Message.confidence, Message.received_at)
    else:
        query = query.order_by(Message.urgency_rank, Message.received_at, Message.id)
    return list(session.scalars(query.offset(offset).limit(limit))), total


def validate_labels(labels: dict, taxonomy: Taxonomy) -> dict:
    """Reviewed labels must use the tree's codes; unknown ones are named."""
    concerns = labels.get("concerns")
    if not isinstance(concerns, list) or not 1 <= len(concerns) <= taxonomy.max_concerns:
        raise ValidationError("V001", field="concerns", reason=f"1 bis {taxonomy.max_concerns} Codes erwartet")
    if len(set(concerns)) != len(concerns):
        raise ValidationError("V001", field="concerns", reason="ein Code steht doppelt")
    for code in concerns:
        if not taxonomy.has(code):
            raise ValidationError("V001", field="concerns", reason=f"unbekannter Code {code!r}")
    for name in ("art", "urgency", "absender", "routing"):
        if labels.get(name) not in taxonomy.values(name):
            raise ValidationError("V001", field=name, reason=f"unbekannter Wert {labels.get(name)!r}; "
                                                             f"erlaubt: {', '.join(taxonomy.values(name))}")
    return labels


def review_message(session: Session, taxonomy: Taxonomy, message_id: int, *, version: int, reviewer: str,
                   action: str, labels: dict | None = None, status: str | None = None,
                   begruendet: str | None = None, note: str | None = None) -> Message:
    """Accept the suggestion (`action="accept"`) or correct it (`"correct"`, with `labels`, which
    may name only the fields that change). A stale `version` raises ConflictError."""
    message = get_message(session, message_id)
    if message.version != version:
        raise ConflictError("C001", id=message_id, current=message.version, sent=version)
    if action not in ("accept", "correct"):
        raise ValidationError("V001", field="action", reason="accept oder correct erwartet")
    if status is not None and status not in STATUSES:
        raise ValidationError("V001", field="status", reason=f"erlaubt: {', '.join(STATUSES)}")
    if begruendet is not None and begruendet not in BEGRUENDET:
        raise ValidationError("V001", field="begruendet", reason=f"erlaubt: {', '.join(BEGRUENDET)}")
    current = {"concerns": message.concerns, "art": message.art, "urgency": message.urgency,
               "absender": message.absender, "routing": message.unit, "language": message.language}
    new = dict(current)
    if action == "correct":
        changes = {k: v for k, v in (labels or {}).items() if v is not None}
        unknown = set(changes) - set(current)
        if unknown:
            raise ValidationError("V001", field=", ".join(sorted(unknown)), reason="unbekanntes Feld")
        new.update(changes)
        if "routing" not in changes and any(k in changes for k in ("concerns", "urgency", "absender")):
            prediction = current_prediction(message)
            mediation = bool(prediction and prediction.scores.get("mediation", 0) >= 0.5)
            new["routing"], _ = route(taxonomy, new["concerns"], new["urgency"], new["absender"], mediation)
    validate_labels(new, taxonomy)
    _apply(message, new, taxonomy)
    message.needs_review = False
    message.reviewed = True
    if status:
        message.status = status
        message.closed_at = datetime.now(UTC) if status == "abgeschlossen" else None
    elif message.status == "neu":
        message.status = "in_bearbeitung"
    if begruendet is not None:
        message.begruendet = begruendet
    session.add(Review(message=message, reviewer=reviewer, action=action, labels=new, status=message.status,
                       begruendet=begruendet, note=note, message_version=version))
    record(session, reviewer, "nachricht.geprueft" if action == "accept" else "nachricht.korrigiert",
           message.id, before=current, after=new, status=message.status, begruendet=begruendet, note=note)
    try:
        session.flush()
    except StaleDataError as exc:
        raise ConflictError("C001", id=message_id, current="neuer", sent=version) from exc
    return message
