"""Where the mail tagger stands in each IMAP folder, and where each stored mail lies on the server.

- `MailboxState`: per (mailbox, folder) the UIDVALIDITY and the highest UID handled, so that a
  restart neither skips nor repeats a mail.
- `MailboxMessage`: per stored mail its current place on the server (folder, UIDVALIDITY, UID)
  and fingerprints (sha256 of the raw bytes, Message-ID), so a re-numbered folder or a mail moved
  by a person is recognised instead of being stored twice.
- `MailboxTombstone`: where the mail of a message deleted for data protection lies, and the
  sha256 of its bytes, nothing more: the tagger takes its keywords off and never stores it again.

Plain functions that take a session; the caller owns the transaction. The tables share `Base`
with `tables.py` and are created by migrations 0002 to 0004.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, selectinload

from .tables import Base, Message, utcnow

__all__ = ["MailboxState", "MailboxMessage", "MailboxTombstone", "get_state", "save_state", "at_location",
           "find_known", "remember", "in_folder", "bury", "grave_of", "graves_in", "MAX_MESSAGE_ID"]

MAX_MESSAGE_ID = 500


class MailboxState(Base):
    __tablename__ = "mailbox_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(300))
    folder: Mapped[str] = mapped_column(String(300))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("mailbox", "folder", name="uq_mailbox_state_folder"),)


class MailboxMessage(Base):
    __tablename__ = "mailbox_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    mailbox: Mapped[str] = mapped_column(String(300))
    folder: Mapped[str] = mapped_column(String(300))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    raw_sha256: Mapped[str] = mapped_column(String(64), index=True)
    header_message_id: Mapped[str] = mapped_column(String(MAX_MESSAGE_ID), default="", index=True)
    quarantined: Mapped[bool] = mapped_column(Boolean, default=False)
    copied_to: Mapped[str | None] = mapped_column(String(300))  # fallback folder, when keywords are not allowed
    written: Mapped[str | None] = mapped_column(String(2000))  # our keywords as last set, space-separated
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    message: Mapped[Message] = relationship()

    __table_args__ = (Index("ix_mailbox_messages_location", "mailbox", "folder", "uidvalidity", "uid"),)


class MailboxTombstone(Base):
    __tablename__ = "mailbox_tombstones"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(300))
    folder: Mapped[str] = mapped_column(String(300))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    raw_sha256: Mapped[str] = mapped_column(String(64), index=True)
    erased_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_mailbox_tombstones_location", "mailbox", "folder", "uidvalidity", "uid"),)


def get_state(session: Session, mailbox: str, folder: str) -> MailboxState | None:
    return session.scalar(select(MailboxState).where(MailboxState.mailbox == mailbox,
                                                     MailboxState.folder == folder))


def save_state(session: Session, mailbox: str, folder: str, uidvalidity: int, last_uid: int) -> MailboxState:
    state = get_state(session, mailbox, folder)
    if state is None:
        state = MailboxState(mailbox=mailbox, folder=folder)
        session.add(state)
    state.uidvalidity, state.last_uid = uidvalidity, last_uid
    session.flush()
    return state


def at_location(session: Session, mailbox: str, folder: str, uidvalidity: int, uid: int) -> MailboxMessage | None:
    return session.scalar(select(MailboxMessage).where(
        MailboxMessage.mailbox == mailbox, MailboxMessage.folder == folder,
        MailboxMessage.uidvalidity == uidvalidity, MailboxMessage.uid == uid))


def find_known(session: Session, mailbox: str, raw_sha256: str, header_message_id: str = "") -> MailboxMessage | None:
    """A mail of this mailbox stored before: same raw bytes, else (when given) the same Message-ID."""
    query = select(MailboxMessage).where(MailboxMessage.mailbox == mailbox).order_by(MailboxMessage.id).limit(1)
    found = session.scalar(query.where(MailboxMessage.raw_sha256 == raw_sha256))
    if found is None and header_message_id:
        found = session.scalar(query.where(
            MailboxMessage.header_message_id == header_message_id[:MAX_MESSAGE_ID]))
    return found


def remember(session: Session, message_id: int, *, mailbox: str, folder: str, uidvalidity: int, uid: int,
             raw_sha256: str, header_message_id: str = "", quarantined: bool = False) -> MailboxMessage:
    entry = MailboxMessage(message_id=message_id, mailbox=mailbox, folder=folder, uidvalidity=uidvalidity, uid=uid,
                           raw_sha256=raw_sha256, header_message_id=header_message_id[:MAX_MESSAGE_ID],
                           quarantined=quarantined)
    session.add(entry)
    session.flush()
    return entry


def in_folder(session: Session, mailbox: str, folder: str, uidvalidity: int) -> list[MailboxMessage]:
    """The stored mails last seen in this folder (with their messages loaded)."""
    return list(session.scalars(
        select(MailboxMessage).options(selectinload(MailboxMessage.message))
        .where(MailboxMessage.mailbox == mailbox, MailboxMessage.folder == folder,
               MailboxMessage.uidvalidity == uidvalidity)
        .order_by(MailboxMessage.uid)))


def bury(session: Session, message_id: int) -> int:
    """Before message `message_id` is deleted: a tombstone for each of its mails (location and
    hash only); their `MailboxMessage` rows go with the message. The number of mails."""
    entries = session.scalars(select(MailboxMessage).where(MailboxMessage.message_id == message_id)).all()
    for e in entries:
        session.add(MailboxTombstone(mailbox=e.mailbox, folder=e.folder, uidvalidity=e.uidvalidity, uid=e.uid,
                                     raw_sha256=e.raw_sha256))
    return len(entries)


def grave_of(session: Session, mailbox: str, folder: str, uidvalidity: int, uid: int,
             raw_sha256: str) -> MailboxTombstone | None:
    """The tombstone of this mail: at this place, else with these bytes anywhere in the mailbox."""
    query = select(MailboxTombstone).where(MailboxTombstone.mailbox == mailbox).order_by(MailboxTombstone.id).limit(1)
    return (session.scalar(query.where(MailboxTombstone.folder == folder, MailboxTombstone.uidvalidity == uidvalidity,
                                       MailboxTombstone.uid == uid))
            or session.scalar(query.where(MailboxTombstone.raw_sha256 == raw_sha256)))


def graves_in(session: Session, mailbox: str, folder: str, uidvalidity: int) -> list[MailboxTombstone]:
    return list(session.scalars(select(MailboxTombstone).where(
        MailboxTombstone.mailbox == mailbox, MailboxTombstone.folder == folder,
        MailboxTombstone.uidvalidity == uidvalidity).order_by(MailboxTombstone.uid)))
