"""The append-only audit log: every change to a message is one more row."""
from __future__ import annotations

from sqlalchemy.orm import Session

from .tables import AuditEntry

__all__ = ["record"]


def record(session: Session, actor: str, action: str, message_id: int | None = None, **detail: object) -> None:
    session.add(AuditEntry(actor=actor, action=action, message_id=message_id, detail=detail))
