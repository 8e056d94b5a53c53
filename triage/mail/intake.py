"""Taking a raw e-mail into the store: parse, classify the new part, store with the raw
original; a mail that cannot be parsed is kept in quarantine with the reason, never dropped."""
from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from sqlalchemy.orm import Session

from ..classify.engine import Engine
from ..errors import InputError
from ..store.audit import record
from ..store.messages import store_message
from ..store.tables import Message
from .parse import ParsedMail, parse_bytes

__all__ = ["store_mail", "quarantine_result", "mail_key", "received_at"]

CHANNEL = "E-Mail"


def mail_key(raw: bytes) -> str:
    """An idempotency key from the mail's bytes: the same mail imported twice is stored once."""
    return "mail:" + hashlib.sha256(raw).hexdigest()


def quarantine_result(engine: Engine, reason: str) -> dict:
    """A placeholder suggestion for a mail that could not be read: sent to staff for review."""
    tax = engine.taxonomy
    fallback = tax.fallback_topic
    labels = {"concerns": [fallback], "art": tax.values("art")[-1], "urgency": tax.values("urgency")[-1],
              "absender": tax.values("absender")[0], "routing": tax.unit_of(fallback), "language": "de"}
    return {"labels": labels, "scores": {"concerns": {fallback: 0.0}}, "evidence": {}, "needs_review": True,
            "review_reasons": [f"Quarantäne: {reason}"], "routing_reason": "nicht lesbar, bitte von Hand einordnen",
            "model_version": engine.version}


def received_at(mail: ParsedMail | None) -> datetime:
    """When the mail arrived, from its Date header; now when the header is missing, unreadable
    or more than a day in the future."""
    now = datetime.now(UTC)
    try:
        when = parsedate_to_datetime(mail.date) if mail and mail.date else None
    except (TypeError, ValueError, IndexError):
        when = None
    if when is None:
        return now
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return now if when > now + timedelta(days=1) else when


def store_mail(session: Session, engine: Engine, raw: bytes, *, actor: str = "import",
               source: tuple[str, int, int] | None = None, key: str | None = None) -> tuple[Message, bool, bool]:
    """(message, created, quarantined) for one raw mail."""
    key = key or mail_key(raw)
    try:
        mail = parse_bytes(raw)
        text = (mail.new_text or mail.text).strip()
        if not text:
            raise InputError("I001")
    except InputError as exc:
        reason = exc.message
        message, created = store_message(
            session, engine.taxonomy, text=f"[Quarantäne] E-Mail nicht lesbar: {reason}", result=quarantine_result(
                engine, reason), channel=CHANNEL, raw=raw, idempotency_key=key, actor=actor, source=source)
        if created:
            record(session, actor, "mail.quarantaene", message.id, reason=reason)
        return message, created, True
    result = engine.classify(text, mail.subject, CHANNEL).as_dict()
    # the stored text is the part that was classified, so evidence offsets fit it; the raw
    # original (quotes, signature, attachments) is kept beside it
    message, created = store_message(session, engine.taxonomy, text=text, subject=mail.subject, result=result,
                                     channel=CHANNEL, received_at=received_at(mail), raw=raw, idempotency_key=key,
                                     actor=actor, source=source)
    return message, created, False
