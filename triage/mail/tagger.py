"""The IMAP tagger: new mail in a folder is parsed, classified, stored for review and tagged.

For each new mail of the watched folder: fetch it without marking it read, parse it, classify
its new part (quotes and signature left out), store it with its place on the server, and set a
few IMAP keywords (see `keywords.py`) so the team sees the suggestion in its mail client.

What keeps it safe to stop and start at any moment:
- the folder's UIDVALIDITY and the last UID handled are kept in the store (`mailbox_state`),
  written after each batch; a mail is stored under an idempotency key made of
  (mailbox, UIDVALIDITY, UID) and recognised by its location or raw hash, so a repeated batch
  stores nothing twice;
- on the first start only mails without any of our keywords are taken (optionally since a date);
- when UIDVALIDITY changes the folder is read again and known mails (raw hash or Message-ID)
  are only re-located, never stored twice;
- nothing is ever deleted or expunged; a lost connection is retried with exponential backoff;
- a mail that cannot be read is stored in quarantine with a safe default and an audit entry.

`sync_corrections` carries reviews back to the mailbox (keywords follow the current labels)
and turns a mail moved by a person into another unit's folder into a routing correction.
"""
from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date

from sqlalchemy import select

from ..classify.engine import Engine
from ..classify.engine import Message as EngineMessage
from ..errors import ConflictError, MailboxError, TriageError, ValidationError
from ..store.audit import record
from ..store.db import session_scope
from ..store.mailbox_state import (
    MailboxMessage,
    at_location,
    find_known,
    get_state,
    grave_of,
    graves_in,
    in_folder,
    remember,
    save_state,
)
from ..store.messages import review_message, store_message
from ..store.tables import Message
from .imap import Mailbox, chunks
from .intake import mail_key, quarantine_result, received_at
from .keywords import DEFAULT_PREFIX, build_scheme, keywords_for, ours, unit_from_keywords, urgency_from_keywords
from .parse import ParsedMail, parse_bytes

__all__ = ["Tagger", "Report", "idempotency_key"]

log = logging.getLogger(__name__)

CHANNEL = "E-Mail"
REVIEWER = "postfach"


@dataclass
class Report:
    """What a run did; `summary()` is the one line the CLI prints."""

    seen: int = 0
    stored: int = 0
    quarantined: int = 0
    known: int = 0
    tagged: int = 0
    copied: int = 0
    keyword_updates: int = 0
    routing_corrections: int = 0
    keyword_corrections: int = 0  # urgency or unit keywords changed by a person, taken as reviews
    erased: int = 0  # mails of messages deleted for data protection: keywords off, not stored again

    def __iadd__(self, other: Report) -> Report:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self

    def summary(self) -> str:
        return (f"{self.seen} neue E-Mails: {self.stored} gespeichert, {self.quarantined} in Quarantäne, "
                f"{self.known} schon bekannt; {self.tagged} verschlagwortet, {self.copied} kopiert; "
                f"{self.keyword_updates} Schlagwort-Korrekturen, {self.routing_corrections} Umleitungen, "
                f"{self.keyword_corrections} Korrekturen aus geänderten Schlagwörtern"
                + (f"; {self.erased} gelöschte Nachrichten nicht wieder aufgenommen" if self.erased else ""))


@dataclass(frozen=True)
class _Plan:
    """Keywords (or the fallback copy) that one mail should get after its batch is committed."""

    uid: int
    entry_id: int
    keywords: frozenset[str]
    unit: str
    copied_to: str | None
    erased: bool = False  # its message was deleted: take our keywords off, copy nothing


def idempotency_key(mailbox: str, uidvalidity: int, uid: int) -> str:
    key = f"imap:{mailbox}:{uidvalidity}:{uid}"
    return key if len(key) <= 200 else "imap:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


def _labels_of(message: Message) -> dict:
    return {"concerns": message.concerns, "urgency": message.urgency, "routing": message.unit}


class Tagger:
    """Tags new mail of one folder. `unit_folders` maps folder names to units for reading moves;
    `fallback_folders` maps units to folders for servers without custom keywords."""

    def __init__(self, mailbox: Mailbox, engine: Engine, db_url: str, folder: str = "INBOX", *,
                 prefix: str = DEFAULT_PREFIX, since: date | None = None,
                 unit_folders: Mapping[str, str] | None = None, fallback_folders: Mapping[str, str] | None = None,
                 batch_size: int = 50, retries: int = 5, backoff: tuple[float, float] = (1.0, 60.0),
                 idle_timeout: float = 300.0, sync_every: float = 300.0,
                 sleep: Callable[[float], None] = time.sleep, actor: str = "imap-tagger",
                 copy_to_units: bool = False) -> None:
        self.mailbox, self.engine, self.db_url, self.folder = mailbox, engine, db_url, folder
        self.copy_to_units = copy_to_units  # also copy each mail into its unit's folder
        self.taxonomy = engine.taxonomy
        self.scheme = build_scheme(self.taxonomy, prefix)
        self.since = since
        self.unit_folders = dict(unit_folders or {})
        for name, unit in self.unit_folders.items():
            if unit not in self.taxonomy.units:
                raise ValidationError("V001", field=f"Ordner {name}", reason=f"unbekannte Stelle {unit!r}")
        self.fallback_folders = {unit: (fallback_folders or {}).get(unit, f"{prefix}an_{unit}")
                                 for unit in self.taxonomy.units}
        self.batch_size, self.retries, self.backoff = batch_size, retries, backoff
        self.idle_timeout, self.sync_every, self.sleep, self.actor = idle_timeout, sync_every, sleep, actor
        self._fallback_logged = False
        self._missing_folders: set[str] = set()
        self._foreign: set[tuple[str, int, int]] = set()  # tagged mails in unit folders that are not ours

    @property
    def source_name(self) -> str:
        """The mailbox name stored with each message: account and folder."""
        return f"{self.mailbox.name}/{self.folder}"

    # --- running ------------------------------------------------------------------------------

    def run_once(self) -> Report:
        """Handle every new mail of the folder, then return; lost connections are retried."""
        report = Report()
        self._retrying(lambda: self._cycle(report))
        return report

    def sync_corrections(self) -> Report:
        """Carry reviews back to the mailbox and read moves into unit folders as routing corrections."""
        report = Report()
        self._retrying(lambda: self._sync(report))
        return report

    def watch(self, stop: Callable[[], bool] = lambda: False) -> Report:
        """Run until `stop()` says so: new mail, corrections every `sync_every` seconds, IDLE between.
        A lost connection is retried forever with backoff; other mailbox errors end the watch."""
        total, delay, last_sync = Report(), self.backoff[0], float("-inf")
        while not stop():
            try:
                if time.monotonic() - last_sync >= self.sync_every:
                    self._sync(total)
                    last_sync = time.monotonic()
                self._cycle(total)  # leaves the watched folder selected for IDLE
                if stop():
                    break
                self.mailbox.idle(self.idle_timeout)
                delay = self.backoff[0]
            except MailboxError as exc:
                if not exc.transient:
                    raise
                delay = self._pause(exc, delay)
        return total

    def _retrying(self, step: Callable[[], None]) -> None:
        delay = self.backoff[0]
        for attempt in range(self.retries + 1):
            try:
                step()
                return
            except MailboxError as exc:
                if not exc.transient or attempt == self.retries:
                    raise
                delay = self._pause(exc, delay)

    def _pause(self, exc: MailboxError, delay: float) -> float:
        """Drop the broken connection, wait, and return the next (doubled, capped) wait."""
        log.warning("Postfach %s: %s; neuer Versuch in %.0f s", self.mailbox.name, exc.message, delay)
        self.mailbox.close()
        self.sleep(delay)
        return min(delay * 2, self.backoff[1])

    # --- new mail -----------------------------------------------------------------------------

    def _cycle(self, report: Report) -> None:
        with session_scope(self.db_url) as session:
            state = get_state(session, self.mailbox.name, self.folder)
            known_validity, last_uid = (state.uidvalidity, state.last_uid) if state else (None, 0)
        uidvalidity, uids = self.mailbox.select(self.folder, after_uid=last_uid,
                                                since=self.since if state is None else None)
        rescan = known_validity is not None and uidvalidity != known_validity
        if rescan:
            log.warning("Ordner %s: UIDVALIDITY %s → %s, lese den Ordner neu (bekannte E-Mails werden erkannt)",
                        self.source_name, known_validity, uidvalidity)
            uidvalidity, uids = self.mailbox.select(self.folder, since=self.since)
            last_uid = 0
        todo = uids
        if state is None and uids:  # first start: leave mail alone that someone tagged before
            flags = self.mailbox.keywords(uids)
            todo = [uid for uid in uids if not ours(self.scheme, flags.get(uid, ()))]
        for batch in chunks(todo, self.batch_size):
            self._batch(uidvalidity, batch, rescan, report)
            self._save_state(uidvalidity, max(batch))
        if state is None or rescan or uids:
            self._save_state(uidvalidity, max([last_uid, *uids]))

    def _save_state(self, uidvalidity: int, last_uid: int) -> None:
        with session_scope(self.db_url) as session:
            save_state(session, self.mailbox.name, self.folder, uidvalidity, last_uid)

    def _batch(self, uidvalidity: int, uids: Sequence[int], rescan: bool, report: Report) -> None:
        raws = self.mailbox.fetch(uids)
        plans: list[_Plan] = []
        with session_scope(self.db_url) as session:
            readable: list[tuple[int, bytes, ParsedMail]] = []
            for uid in uids:
                raw = raws.get(uid)
                if raw is None:  # removed from the server in the meantime
                    continue
                report.seen += 1
                mail, problem = _parse(raw)
                digest = _sha256(raw)
                entry = (at_location(session, self.mailbox.name, self.folder, uidvalidity, uid)
                         or find_known(session, self.mailbox.name, digest,
                                       mail.message_id if (mail and rescan) else "")
                         or self._imported(session, uidvalidity, uid, raw, mail))
                grave = None if entry else grave_of(session, self.mailbox.name, self.folder, uidvalidity, uid,
                                                    digest)
                if grave is not None:  # deleted for data protection: never stored again
                    grave.folder, grave.uidvalidity, grave.uid = self.folder, uidvalidity, uid
                    plans.append(_Plan(uid, 0, frozenset(), "", None, erased=True))
                    report.erased += 1
                elif entry is not None:
                    report.known += 1
                    entry.folder, entry.uidvalidity, entry.uid = self.folder, uidvalidity, uid
                    plans.append(self._plan(entry))
                elif problem:
                    plans.append(self._plan(self._quarantine(session, uidvalidity, uid, raw, mail, problem)))
                    report.quarantined += 1
                else:
                    readable.append((uid, raw, mail))
            for (uid, raw, mail), result in zip(readable, self._classify([m for _, _, m in readable])):
                if isinstance(result, str):
                    plans.append(self._plan(self._quarantine(session, uidvalidity, uid, raw, mail, result)))
                    report.quarantined += 1
                else:
                    entry = self._store(session, uidvalidity, uid, raw, mail, result, _engine_message(mail).text)
                    plans.append(self._plan(entry))
                    report.stored += 1
        self._apply(plans, report)

    def _imported(self, session, uidvalidity: int, uid: int, raw: bytes,
                  mail: ParsedMail | None) -> MailboxMessage | None:
        """The same mail brought in by `triage import` (keyed by its bytes): tag it, do not store it again."""
        message = session.scalar(select(Message).where(Message.idempotency_key == mail_key(raw)))
        if message is None:
            return None
        return remember(session, message.id, mailbox=self.mailbox.name, folder=self.folder, uidvalidity=uidvalidity,
                        uid=uid, raw_sha256=_sha256(raw), header_message_id=mail.message_id if mail else "")

    def _classify(self, mails: list[ParsedMail]) -> list[dict | str]:
        """Results as dicts, or the reason why one mail could not be classified."""
        messages = [_engine_message(mail) for mail in mails]
        try:
            return [result.as_dict() for result in self.engine.classify_many(messages)]
        except Exception:  # one odd mail must not block the folder: classify one by one to find it
            out: list[dict | str] = []
            for message in messages:
                try:
                    out.append(self.engine.classify(message.text, message.subject, message.channel).as_dict())
                except TriageError as exc:
                    out.append(exc.message)
                except Exception as exc:  # quarantine with the reason and go on
                    log.exception("Klassifikation fehlgeschlagen")
                    out.append(f"Klassifikation fehlgeschlagen ({type(exc).__name__})")
            return out

    def _store(self, session, uidvalidity: int, uid: int, raw: bytes, mail: ParsedMail | None, result: dict,
               text: str, quarantined: bool = False) -> MailboxMessage:
        message, _created = store_message(
            session, self.taxonomy, text=text, result=result, channel=CHANNEL,
            subject=mail.subject if mail else "", received_at=received_at(mail), raw=raw,
            idempotency_key=idempotency_key(self.source_name, uidvalidity, uid), actor=self.actor,
            source=(self.source_name, uidvalidity, uid))
        return remember(session, message.id, mailbox=self.mailbox.name, folder=self.folder, uidvalidity=uidvalidity,
                        uid=uid, raw_sha256=_sha256(raw), header_message_id=mail.message_id if mail else "",
                        quarantined=quarantined)

    def _quarantine(self, session, uidvalidity: int, uid: int, raw: bytes, mail: ParsedMail | None,
                    reason: str) -> MailboxMessage:
        log.warning("E-Mail %s UID %s in Quarantäne: %s", self.source_name, uid, reason)
        note = f"[Quarantäne] E-Mail nicht lesbar: {reason}"
        result = quarantine_result(self.engine, reason)  # the same safe default as `triage import`
        entry = self._store(session, uidvalidity, uid, raw, mail, result, note, quarantined=True)
        record(session, self.actor, "mail.quarantaene", entry.message_id, reason=reason, mailbox=self.source_name,
               uidvalidity=uidvalidity, uid=uid)
        return entry

    def _plan(self, entry: MailboxMessage) -> _Plan:
        message = entry.message
        wanted = keywords_for(self.scheme, self.taxonomy, _labels_of(message), message.needs_review,
                              entry.quarantined)
        return _Plan(entry.uid, entry.id, frozenset(wanted), message.unit, entry.copied_to)

    # --- writing to the mailbox ---------------------------------------------------------------

    def _apply(self, plans: list[_Plan], report: Report) -> None:
        if not plans:
            return
        if not self.mailbox.supports_keywords():
            if not self._fallback_logged:
                log.warning("Server erlaubt in %s keine eigenen Schlagwörter: E-Mails werden stattdessen in "
                            "einen Ordner je Stelle kopiert (%s)", self.source_name,
                            ", ".join(self.fallback_folders.values()))
                self._fallback_logged = True
            self._copy_to_unit_folders(plans, report)
            return
        current = self.mailbox.keywords([plan.uid for plan in plans])
        for plan in plans:
            report.tagged += self._set(plan.uid, plan.keywords, current.get(plan.uid, set()))
        self._remember_written({plan.entry_id: plan.keywords for plan in plans if not plan.erased})
        if self.copy_to_units:
            self._copy_to_unit_folders(plans, report)

    def _set(self, uid: int, wanted: frozenset[str] | set[str], flags: set[str]) -> int:
        have = ours(self.scheme, flags)
        add, remove = set(wanted) - have, have - set(wanted)
        if add or remove:
            self.mailbox.set_keywords(uid, add, remove)
            return 1
        return 0

    def _remember_written(self, written: Mapping[int, frozenset[str]]) -> None:
        """What we set on each mail (by entry id): a later difference on the server is a person's edit."""
        with session_scope(self.db_url) as session:
            for entry_id, keywords in written.items():
                entry = session.get(MailboxMessage, entry_id)
                text = " ".join(sorted(keywords))
                if entry is not None and entry.written != text:
                    entry.written = text

    def _copy_to_unit_folders(self, plans: list[_Plan], report: Report) -> None:
        """Copy each mail once into its unit's folder (never move or delete the original)."""
        for plan in plans:
            target = self.fallback_folders.get(plan.unit)
            if plan.erased or target is None or plan.copied_to == target:
                continue
            self.mailbox.copy(plan.uid, target)
            with session_scope(self.db_url) as session:
                entry = session.get(MailboxMessage, plan.entry_id)
                if entry is not None:
                    entry.copied_to = target
            report.copied += 1

    # --- corrections --------------------------------------------------------------------------

    def _sync(self, report: Report) -> None:
        for folder, unit in self.unit_folders.items():
            if folder != self.folder:
                self._read_moves(folder, unit, report)
        for folder in dict.fromkeys([*self.unit_folders, self.folder]):
            self._sync_keywords(folder, report)
        if self.copy_to_units or not self.mailbox.supports_keywords():
            self._sync_copies(report)

    def _sync_copies(self, report: Report) -> None:
        """Copies follow reviews: a mail whose unit was corrected is copied into the new unit's folder
        too (the old copy stays; the tagger never deletes)."""
        selected = self._select_existing(self.folder)
        if selected is None:
            return
        uidvalidity, uids = selected
        with session_scope(self.db_url) as session:
            plans = [self._plan(e) for e in in_folder(session, self.mailbox.name, self.folder, uidvalidity)]
        present = set(uids)
        self._copy_to_unit_folders([p for p in plans if p.uid in present and p.copied_to is not None], report)

    def _select_existing(self, folder: str) -> tuple[int, list[int]] | None:
        try:
            return self.mailbox.select(folder)
        except MailboxError as exc:
            if exc.code != "M203":
                raise
            if folder not in self._missing_folders:
                log.info("Ordner %s gibt es (noch) nicht: übersprungen", folder)
                self._missing_folders.add(folder)
            return None

    def _read_moves(self, folder: str, unit: str, report: Report) -> None:
        """Tagged mails that turned up in a unit's folder: relocate them, and correct the routing when
        the folder's unit differs from the stored one."""
        selected = self._select_existing(folder)
        if selected is None:
            return
        uidvalidity, uids = selected
        flags = self.mailbox.keywords(uids)
        with session_scope(self.db_url) as session:
            here = {e.uid for e in in_folder(session, self.mailbox.name, folder, uidvalidity)}
        arrived = [uid for uid in uids if uid not in here and (folder, uidvalidity, uid) not in self._foreign
                   and ours(self.scheme, flags.get(uid, ()))]
        for batch in chunks(arrived, self.batch_size):
            for uid, raw in self.mailbox.fetch(batch).items():
                mail, _problem = _parse(raw)
                self._relocate(folder, unit, uidvalidity, uid, raw, mail, flags.get(uid, set()), report)

    def _relocate(self, folder: str, unit: str, uidvalidity: int, uid: int, raw: bytes, mail: ParsedMail | None,
                  flags: set[str], report: Report) -> None:
        try:
            with session_scope(self.db_url) as session:
                digest = _sha256(raw)
                entry = find_known(session, self.mailbox.name, digest, mail.message_id if mail else "")
                grave = None if entry else grave_of(session, self.mailbox.name, folder, uidvalidity, uid, digest)
                if grave is not None:  # its message was deleted: its keywords come off with the next sync
                    grave.folder, grave.uidvalidity, grave.uid = folder, uidvalidity, uid
                    return
                if entry is None:  # tagged, but not by us (another store): leave it alone
                    self._foreign.add((folder, uidvalidity, uid))
                    return
                entry.folder, entry.uidvalidity, entry.uid = folder, uidvalidity, uid
                message = entry.message
                if message.unit != unit:
                    review_message(session, self.taxonomy, message.id, version=message.version, reviewer=REVIEWER,
                                   action="correct", labels={"routing": unit},
                                   note=f"Im Postfach in den Ordner {folder} verschoben "
                                        f"(Schlagwort: {unit_from_keywords(self.scheme, flags) or 'keins'})")
                    report.routing_corrections += 1
        except ConflictError as exc:  # someone is reviewing it right now: read the move next time
            log.info("Verschiebung von UID %s in %s nicht übernommen: %s", uid, folder, exc.message)

    def _sync_keywords(self, folder: str, report: Report) -> None:
        """Keywords follow the stored labels: a review in the web UI shows up in the mailbox. A person
        who changed our urgency or unit keyword in a mail client has corrected the suggestion: that
        becomes a review (like a move into a unit's folder), not something to overwrite."""
        selected = self._select_existing(folder)
        if selected is None or not self.mailbox.supports_keywords():
            return
        uidvalidity, _uids = selected
        with session_scope(self.db_url) as session:
            graves = [grave.uid for grave in graves_in(session, self.mailbox.name, folder, uidvalidity)]
            entries = in_folder(session, self.mailbox.name, folder, uidvalidity)
            written = {e.uid: (e.id, e.written) for e in entries}
            plans = [self._plan(e) for e in entries]
        if not graves and not written:
            return
        current = self.mailbox.keywords(graves + list(written))
        held, corrected = set(), 0  # held: edits not taken now (someone is reviewing): leave the mail as it is
        for uid, (entry_id, last) in written.items():
            have = ours(self.scheme, current.get(uid, set()))
            if last is not None and have != set(last.split()):
                taken = self._take_edit(entry_id, set(last.split()), have)
                if taken is None:
                    held.add(uid)
                corrected += bool(taken)
        report.keyword_corrections += corrected
        if corrected:  # labels just corrected: plan from them
            with session_scope(self.db_url) as session:
                plans = [self._plan(e) for e in in_folder(session, self.mailbox.name, folder, uidvalidity)]
        plans = [plan for plan in plans if plan.uid not in held]
        # mails of deleted messages lose our keywords; stored mails carry their labels
        wanted = {uid: frozenset() for uid in graves} | {plan.uid: plan.keywords for plan in plans}
        for uid, keywords in wanted.items():
            if uid in current:  # still on the server
                report.keyword_updates += self._set(uid, keywords, current[uid])
        self._remember_written({plan.entry_id: plan.keywords for plan in plans
                                if plan.uid in current and written[plan.uid][1] != " ".join(sorted(plan.keywords))})

    def _take_edit(self, entry_id: int, last: set[str], have: set[str]) -> bool | None:
        """Urgency or unit keywords a person changed, as a correction of the stored labels: True when
        one was made, False when the edit names nothing new (only the area, which maps to no single
        topic, or all our keywords cleared at once), None when the message is being reviewed right now.
        Removing the urgency keyword while others stay means the lowest level."""
        if not have:  # every keyword of ours gone at once (tags cleared, a mail client's reset): no statement
            return False
        changed = last ^ have
        labels = {}
        if changed & set(self.scheme.urgencies.values()):
            labels["urgency"] = urgency_from_keywords(self.scheme, self.taxonomy, have)
        if changed & set(self.scheme.units.values()):
            labels["routing"] = unit_from_keywords(self.scheme, have)
        try:
            with session_scope(self.db_url) as session:
                entry = session.get(MailboxMessage, entry_id)
                if entry is None:  # its message was deleted a moment ago: the next sync takes the keywords off
                    return False
                message = entry.message
                stored = _labels_of(message)
                labels = {k: v for k, v in labels.items() if v is not None and v != stored[k]}
                if not labels:
                    return False
                review_message(session, self.taxonomy, message.id, version=message.version, reviewer=REVIEWER,
                               action="correct", labels=labels,
                               note="Schlagwörter im Postfach geändert: " + ", ".join(
                                   [f"-{k}" for k in sorted(last - have)] + [f"+{k}" for k in sorted(have - last)]))
                return True
        except ConflictError as exc:
            log.info("Schlagwort-Änderung an Nachricht %s nicht übernommen: %s", entry_id, exc.message)
            return None


def _sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _parse(raw: bytes) -> tuple[ParsedMail | None, str | None]:
    """(mail, None) for a readable mail; (mail or None, reason) for one that goes to quarantine."""
    try:
        mail = parse_bytes(raw)
    except TriageError as exc:
        return None, exc.message
    except Exception as exc:  # the parser promises not to raise; the watcher must go on anyway
        return None, f"Zerlegen fehlgeschlagen ({type(exc).__name__})"
    if not _engine_message(mail).text.strip():
        return mail, "kein Text und kein Betreff"
    return mail, None


def _engine_message(mail: ParsedMail) -> EngineMessage:
    """The part to classify: the new text (without quotes and signature); the subject when the body is empty."""
    text = (getattr(mail, "new_text", None) or mail.text or "").strip()
    if not text:
        return EngineMessage((mail.subject or "").strip(), "", CHANNEL)
    return EngineMessage(text, mail.subject or "", CHANNEL)
