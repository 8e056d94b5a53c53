"""Deleting messages for data protection: one message on request, or every message settled
longer ago than the office's retention period.

A deleted message takes its text, raw mail, predictions and reviews with it (so retraining
never sees it again). If it came from a mailbox, a tombstone keeps where the mail lies and the
hash of its bytes, so the tagger takes its keywords off and never stores it again. Its rows in
the audit log stay, for who did what when, but lose their details (labels and reviewers' notes
are social data too); one more row records the deletion and its reason.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..errors import ValidationError
from .audit import record
from .mailbox_state import bury
from .messages import get_message
from .tables import AuditEntry, Message

__all__ = ["delete_message", "purge_settled", "ERASED"]

ERASED = {"gelöscht": True}


def delete_message(session: Session, message_id: int, *, actor: str, reason: str) -> None:
    if not reason.strip():
        raise ValidationError("V001", field="reason", reason="Bitte einen Grund für die Löschung angeben")
    message = get_message(session, message_id)
    received = message.received_at.date().isoformat()
    session.execute(update(AuditEntry).where(AuditEntry.message_id == message_id).values(detail=ERASED))
    bury(session, message_id)
    session.delete(message)
    session.flush()
    record(session, actor, "nachricht.geloescht", message_id, reason=reason.strip(), received=received)


def purge_settled(session: Session, *, closed_before: datetime, actor: str, reason: str) -> int:
    """Delete every message closed before `closed_before`; the number deleted."""
    ids = session.scalars(select(Message.id).where(Message.status == "abgeschlossen",
                                                   Message.closed_at < closed_before).order_by(Message.id)).all()
    for message_id in ids:
        delete_message(session, message_id, actor=actor, reason=reason)
    return len(ids)
