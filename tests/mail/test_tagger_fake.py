"""The IMAP tagger against the in-memory FakeMailbox: tagging, restarts, renumbered folders,
quarantine, reconnects and corrections read back from the mailbox. All mails are invented."""
from __future__ import annotations

import logging
from datetime import date

import pytest
from sqlalchemy import func, select

from triage.errors import MailboxError
from triage.mail.imap import FakeFolder, FakeMailbox, Mailbox
from triage.mail.keywords import build_scheme, keywords_for, ours
from triage.mail.tagger import Tagger, idempotency_key
from triage.store.db import migrate, session_scope
from triage.store.mailbox_state import MailboxMessage, get_state
from triage.store.messages import review_message
from triage.store.tables import AuditEntry, Message, Review

BODIES = [
    ("Geld fehlt", "Mein Geld ist diesen Monat nicht gekommen, das Konto ist leer und wir haben nichts zu essen."),
    ("Antrag", "Seit sechs Wochen liegt mein Weiterbewilligungsantrag bei Ihnen und niemand bearbeitet ihn."),
    ("Hotline", "Die Hotline ist seit Tagen nicht erreichbar, ich haenge immer nur in der Warteschleife."),
    ("Miete", "Die Miete wurde nur zum Teil uebernommen, obwohl die Wohnung angemessen ist."),
    ("Termin", "Meine Ansprechpartnerin sagt jeden Termin ab und antwortet nicht auf E-Mails."),
]


def mail(n: int, subject: str | None = None, body: str | None = None) -> bytes:
    subject = subject if subject is not None else BODIES[n % len(BODIES)][0]
    body = body if body is not None else BODIES[n % len(BODIES)][1]
    return (f"From: Erika Beispiel <erika.beispiel{n}@example.org>\r\n"
            f"To: krm@jobcenter.example\r\nSubject: {subject}\r\n"
            f"Message-ID: <fake-{n}@example.org>\r\nDate: Mon, 03 Feb 2025 09:{n % 60:02d}:00 +0100\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n"
            f"Guten Tag,\r\n\r\n{body}\r\n\r\nMit freundlichen Gruessen\r\nErika Beispiel\r\n\r\n"
            "Am 01.02.2025 um 10:00 schrieb KRM <krm@jobcenter.example>:\r\n"
            "> Ihre Nachricht ist eingegangen und wird bearbeitet.\r\n").encode()


@pytest.fixture
def db_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'triage.db'}"
    migrate(url)
    return url


@pytest.fixture
def box() -> FakeMailbox:
    fake = FakeMailbox()
    fake.folders["INBOX"] = FakeFolder(uidvalidity=7)
    return fake


def make(box, tiny_engine, db_url, **kw) -> Tagger:
    sleeps: list[float] = []
    tagger = Tagger(box, tiny_engine, db_url, "INBOX", sleep=sleeps.append, **kw)
    tagger.sleeps = sleeps  # type: ignore[attr-defined]
    return tagger


def stored(db_url) -> list[Message]:
    with session_scope(db_url) as session:
        return list(session.scalars(select(Message).order_by(Message.id)))


def expected_flags(tagger: Tagger, message: Message, quarantined: bool = False) -> set[str]:
    labels = {"concerns": message.concerns, "urgency": message.urgency, "routing": message.unit}
    return keywords_for(tagger.scheme, tagger.taxonomy, labels, message.needs_review, quarantined)


def server_ours(box: FakeMailbox, tagger: Tagger, folder: str = "INBOX") -> dict[int, set[str]]:
    return {uid: ours(tagger.scheme, m.flags) for uid, m in box.folders[folder].mails.items()}


def test_fake_mailbox_follows_the_interface() -> None:
    assert isinstance(FakeMailbox(), Mailbox)


def test_tagger_tags_and_stores_new_mail(box, tiny_engine, db_url) -> None:
    uids = [box.append("INBOX", mail(n)) for n in range(3)]
    tagger = make(box, tiny_engine, db_url)
    report = tagger.run_once()
    assert (report.seen, report.stored, report.tagged, report.quarantined) == (3, 3, 3, 0)
    messages = stored(db_url)
    assert [m.source_uid for m in messages] == uids
    scheme = build_scheme(tiny_engine.taxonomy)
    for message in messages:
        assert message.channel == "E-Mail"
        assert message.source_mailbox == "krm@fake.example/INBOX" and message.source_uidvalidity == 7
        assert message.idempotency_key == idempotency_key("krm@fake.example/INBOX", 7, message.source_uid)
        assert message.raw == mail(uids.index(message.source_uid))
        assert "eingegangen" not in message.text  # the new part is classified and stored, not the quote
        flags = box.flags("INBOX", message.source_uid)
        assert ours(scheme, flags) == expected_flags(tagger, message)
        assert len(flags & set(scheme.areas.values())) == 1 and len(flags & set(scheme.units.values())) == 1
        assert "\\Seen" not in flags


def test_tagger_restart_neither_skips_nor_repeats(box, tiny_engine, db_url) -> None:
    for n in range(3):
        box.append("INBOX", mail(n))
    assert make(box, tiny_engine, db_url).run_once().stored == 3
    box.append("INBOX", mail(3))
    box.append("INBOX", mail(4))
    restarted = make(box, tiny_engine, db_url)  # a new process: only the store remembers
    assert restarted.run_once().stored == 2
    assert restarted.run_once().seen == 0
    assert sorted(m.source_uid for m in stored(db_url)) == [1, 2, 3, 4, 5]
    assert all(flags for flags in server_ours(box, restarted).values())
    with session_scope(db_url) as session:
        state = get_state(session, box.name, "INBOX")
        assert (state.uidvalidity, state.last_uid) == (7, 5)


def test_tagger_crash_between_store_and_keywords_repeats_nothing(box, tiny_engine, db_url) -> None:
    tagger = make(box, tiny_engine, db_url, retries=0)
    tagger.run_once()  # the first start on an empty folder
    for n in range(4):
        box.append("INBOX", mail(n))
    # select, fetch, store; then FETCH FLAGS before STORE: lose the connection there
    original = box.keywords

    def broken(uids):
        box.keywords = original
        raise MailboxError("M201", server=box.name, reason="weg")

    box.keywords = broken
    with pytest.raises(MailboxError):
        tagger.run_once()
    assert len(stored(db_url)) == 4 and not any(server_ours(box, tagger).values())
    report = make(box, tiny_engine, db_url).run_once()
    assert (report.stored, report.known, report.tagged) == (0, 4, 4)
    assert len(stored(db_url)) == 4
    assert all(server_ours(box, tagger).values())


def test_first_start_leaves_tagged_mail_alone_and_honours_since(box, tiny_engine, db_url) -> None:
    box.append("INBOX", mail(0), flags={"KRM_leistung", "\\Seen"})
    box.append("INBOX", mail(1), received=date(2024, 1, 5))
    new = box.append("INBOX", mail(2), received=date(2025, 2, 3))
    tagger = make(box, tiny_engine, db_url, since=date(2025, 1, 1))
    report = tagger.run_once()
    assert report.stored == 1
    assert [m.source_uid for m in stored(db_url)] == [new]
    assert box.flags("INBOX", 1) == {"KRM_leistung", "\\Seen"}
    assert not server_ours(box, tagger)[2]


def test_uidvalidity_change_rescans_without_duplicates(box, tiny_engine, db_url) -> None:
    for n in range(3):
        box.append("INBOX", mail(n))
    tagger = make(box, tiny_engine, db_url)
    tagger.run_once()
    box.renumber("INBOX", keep_flags=False)  # a rebuilt server index: new UIDs, keywords lost
    box.append("INBOX", mail(3))
    report = tagger.run_once()
    assert (report.known, report.stored) == (3, 1)
    messages = stored(db_url)
    assert len(messages) == 4
    with session_scope(db_url) as session:
        entries = list(session.scalars(select(MailboxMessage)))
        assert {e.uidvalidity for e in entries} == {8} and sorted(e.uid for e in entries) == [1, 2, 3, 4]
        assert get_state(session, box.name, "INBOX").uidvalidity == 8
    for uid, flags in server_ours(box, tagger).items():
        assert flags, f"UID {uid} ohne Schlagwort"


def test_unreadable_mail_goes_to_quarantine_and_the_rest_is_tagged(box, tiny_engine, db_url) -> None:
    box.append("INBOX", mail(0))
    empty = box.append("INBOX", b"")
    headers_only = box.append("INBOX", b"From: niemand@example.org\r\nMessage-ID: <leer@example.org>\r\n\r\n")
    box.append("INBOX", mail(1))
    tagger = make(box, tiny_engine, db_url)
    report = tagger.run_once()
    assert (report.stored, report.quarantined) == (2, 2)
    by_uid = {m.source_uid: m for m in stored(db_url)}
    for uid in (empty, headers_only):
        message = by_uid[uid]
        assert message.channel == "E-Mail" and message.needs_review
        assert message.text.startswith("[Quarantäne] E-Mail nicht lesbar: ")
        assert message.concerns == [tiny_engine.taxonomy.fallback_topic] and message.urgency == "normal"
        assert "KRM_quarantaene" in box.flags("INBOX", uid) and "KRM_pruefen" in box.flags("INBOX", uid)
        assert ours(tagger.scheme, box.flags("INBOX", uid)) == expected_flags(tagger, message, quarantined=True)
    assert by_uid[empty].raw == b""
    with session_scope(db_url) as session:
        audits = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "mail.quarantaene")))
    assert len(audits) == 2 and all(a.detail["reason"] for a in audits)
    assert all("KRM_quarantaene" not in box.flags("INBOX", uid) for uid in (1, 4))


def test_lost_connection_is_retried_with_exponential_backoff(box, tiny_engine, db_url) -> None:
    box.append("INBOX", mail(0))
    tagger = make(box, tiny_engine, db_url, backoff=(1.0, 3.0))
    box.fail_next(3)
    assert tagger.run_once().stored == 1
    assert tagger.sleeps == [1.0, 2.0, 3.0]
    assert box.closed == 3


def test_tagger_gives_up_after_retries_and_on_permanent_errors(box, tiny_engine, db_url) -> None:
    tagger = make(box, tiny_engine, db_url, retries=2)
    box.fail_next(10)
    with pytest.raises(MailboxError) as caught:
        tagger.run_once()
    assert caught.value.transient and len(tagger.sleeps) == 2
    missing = Tagger(FakeMailbox(), tiny_engine, db_url, "Gibt-es-nicht", sleep=lambda s: None)
    with pytest.raises(MailboxError) as caught:
        missing.run_once()
    assert caught.value.code == "M203" and not caught.value.transient


def test_keywords_follow_a_review(box, tiny_engine, db_url) -> None:
    uid = box.append("INBOX", mail(1))
    tagger = make(box, tiny_engine, db_url)
    tagger.run_once()
    [message] = stored(db_url)
    with session_scope(db_url) as session:
        review_message(session, tiny_engine.taxonomy, message.id, version=message.version, reviewer="sachbearbeitung",
                       action="correct", labels={"urgency": "zeitkritisch", "concerns": ["vermittlung.erreichbarkeit"],
                                                 "routing": "arbeitsvermittlung"})
    report = tagger.sync_corrections()
    assert report.keyword_updates == 1
    assert ours(tagger.scheme, box.flags("INBOX", uid)) == {"KRM_vermittlung", "KRM_zeitkritisch",
                                                            "KRM_an_arbeitsvermittlung"}
    assert tagger.sync_corrections().keyword_updates == 0


def test_move_into_a_unit_folder_is_a_routing_correction(box, tiny_engine, db_url) -> None:
    uid = box.append("INBOX", mail(2))
    units = list(tiny_engine.taxonomy.units)
    folders = {f"Stelle-{unit}": unit for unit in units}
    tagger = make(box, tiny_engine, db_url, unit_folders=folders)
    tagger.run_once()
    [message] = stored(db_url)
    target_unit = next(unit for unit in units if unit != message.unit)
    target = f"Stelle-{target_unit}"
    box.selected = "INBOX"
    box.move(uid, target)  # a person moves the mail in the mail client
    report = tagger.sync_corrections()
    assert report.routing_corrections == 1
    with session_scope(db_url) as session:
        moved = session.get(Message, message.id)
        [review] = session.scalars(select(Review).where(Review.message_id == message.id))
        entry = session.scalar(select(MailboxMessage).where(MailboxMessage.message_id == message.id))
        assert moved.unit == target_unit and review.reviewer == "postfach" and review.action == "correct"
        assert (entry.folder, entry.uid) == (target, 1)
    assert f"KRM_an_{target_unit}" in box.flags(target, 1)
    assert f"KRM_an_{message.unit}" not in box.flags(target, 1)
    again = tagger.sync_corrections()
    assert (again.routing_corrections, again.keyword_updates) == (0, 0)
    assert tagger.run_once().seen == 0
    assert len(stored(db_url)) == 1


def test_server_without_keywords_copies_into_unit_folders(tiny_engine, db_url, caplog) -> None:
    box = FakeMailbox(allow_keywords=False)
    for n in range(3):
        box.append("INBOX", mail(n))
    tagger = make(box, tiny_engine, db_url)
    with caplog.at_level(logging.WARNING, logger="triage.mail.tagger"):
        report = tagger.run_once()
        box.append("INBOX", mail(3))
        tagger.run_once()
    assert report.copied == 3 and report.tagged == 0
    copies = sum(len(f.mails) for name, f in box.folders.items() if name.startswith("KRM_an_"))
    assert copies == 4
    units = {m.unit for m in stored(db_url)}
    assert {name.removeprefix("KRM_an_") for name in box.folders if name != "INBOX"} == units
    assert sum("keine eigenen Schlagwörter" in r.message for r in caplog.records) == 1
    assert "set_keywords" not in box.calls


def test_watch_handles_news_and_reconnects(box, tiny_engine, db_url) -> None:
    tagger = make(box, tiny_engine, db_url, sync_every=0)
    rounds = iter(range(100))

    def stop() -> bool:
        n = next(rounds)
        if n == 2:
            box.append("INBOX", mail(0))
            box.fail_next(1)
        return n >= 8

    total = tagger.watch(stop)
    assert total.stored == 1
    assert "idle" in box.calls and tagger.sleeps == [1.0]
    assert len(stored(db_url)) == 1
    with session_scope(db_url) as session:
        assert session.scalar(select(func.count(MailboxMessage.id))) == 1


def test_tagger_and_imap_public_names() -> None:
    from triage.mail import imap, tagger
    from triage.store import mailbox_state

    assert tagger.__all__ == ["Tagger", "Report", "idempotency_key"]
    assert imap.__all__ == ["Mailbox", "ImapMailbox", "FakeMailbox", "Security", "SECURITIES", "chunks"]
    assert mailbox_state.__all__ == ["MailboxState", "MailboxMessage", "MailboxTombstone", "get_state",
                                     "save_state", "at_location", "find_known", "remember", "in_folder", "bury",
                                     "grave_of", "graves_in", "MAX_MESSAGE_ID"]


def test_mail_imported_from_a_file_before_is_tagged_not_stored_again(box, tiny_engine, db_url) -> None:
    from triage.mail.intake import store_mail

    with session_scope(db_url) as session:
        store_mail(session, tiny_engine, mail(3))
    uid = box.append("INBOX", mail(3))
    tagger = make(box, tiny_engine, db_url)
    report = tagger.run_once()
    assert (report.stored, report.known, report.tagged) == (0, 1, 1)
    [message] = stored(db_url)
    assert ours(tagger.scheme, box.flags("INBOX", uid)) == expected_flags(tagger, message)


def test_optional_copy_into_unit_folders_besides_keywords(box, tiny_engine, db_url) -> None:
    for n in range(2):
        box.append("INBOX", mail(n))
    tagger = Tagger(box, tiny_engine, db_url, "INBOX", sleep=lambda s: None, copy_to_units=True)
    report = tagger.run_once()
    tagger.run_once()  # nothing new: no second copy
    assert report.tagged == 2 and report.copied == 2
    assert sum(len(f.mails) for name, f in box.folders.items() if name.startswith("KRM_an_")) == 2
    assert len(box.folders["INBOX"].mails) == 2  # copied, never moved or deleted


def test_a_message_deleted_for_data_protection_loses_its_keywords_and_stays_deleted(box, tiny_engine,
                                                                                     db_url) -> None:
    from triage.store.deletion import delete_message
    from triage.store.mailbox_state import MailboxTombstone

    for n in range(3):
        box.append("INBOX", mail(n))
    tagger = make(box, tiny_engine, db_url)
    tagger.run_once()
    gone = stored(db_url)[1]
    with session_scope(db_url) as session:
        delete_message(session, gone.id, actor="datenschutz", reason="Antrag auf Löschung")
    report = tagger.sync_corrections()
    assert report.keyword_updates == 1
    flags = server_ours(box, tagger)
    assert flags[gone.source_uid] == set() and all(flags[uid] for uid in flags if uid != gone.source_uid)
    assert box.folders["INBOX"].mails[gone.source_uid].raw == mail(1)  # the mail itself stays on the server
    with session_scope(db_url) as session:  # the tombstone knows where and which bytes, nothing of the content
        [grave] = session.scalars(select(MailboxTombstone))
        assert (grave.folder, grave.uid) == ("INBOX", gone.source_uid) and len(grave.raw_sha256) == 64

    box.renumber("INBOX", keep_flags=True)  # rebuilt server index: everything is looked at again
    again = tagger.run_once()
    assert (again.stored, again.known, again.erased) == (0, 2, 1)
    assert "1 gelöschte Nachrichten nicht wieder aufgenommen" in again.summary()
    assert gone.id not in [m.id for m in stored(db_url)] and len(stored(db_url)) == 2
    assert server_ours(box, tagger)[2] == set()  # same mail, new UID: still no keywords


def _edit(box, uid: int, add: set[str], remove: set[str]) -> None:
    """A person changes keywords in a mail client."""
    box.selected = "INBOX"
    box.set_keywords(uid, add, remove)


def test_urgency_and_unit_keywords_changed_in_a_mail_client_are_corrections(box, tiny_engine, db_url) -> None:
    uid = box.append("INBOX", mail(2))
    tagger = make(box, tiny_engine, db_url)
    tagger.run_once()
    [message] = stored(db_url)
    target = "leistungsbereich" if message.unit != "leistungsbereich" else "krm"
    old_unit, old_urgency = tagger.scheme.units[message.unit], tagger.scheme.urgencies.get(message.urgency)
    _edit(box, uid, {f"KRM_an_{target}", "KRM_zeitkritisch"}, {old_unit, old_urgency} - {None})
    report = tagger.sync_corrections()
    assert report.keyword_corrections == 1  # taken, not overwritten (only KRM_pruefen goes: it is reviewed now)
    with session_scope(db_url) as session:
        corrected = session.get(Message, message.id)
        [review] = session.scalars(select(Review).where(Review.message_id == message.id))
        assert (corrected.unit, corrected.urgency) == (target, "zeitkritisch")
        assert review.reviewer == "postfach" and f"+KRM_an_{target}" in review.note
    assert {f"KRM_an_{target}", "KRM_zeitkritisch"} <= box.flags("INBOX", uid)
    again = tagger.sync_corrections()
    assert (again.keyword_corrections, again.keyword_updates) == (0, 0)


def test_other_keyword_edits_are_put_back_and_reviews_in_the_ui_are_no_edits(box, tiny_engine, db_url) -> None:
    uid = box.append("INBOX", mail(1))
    tagger = make(box, tiny_engine, db_url)
    tagger.run_once()
    [message] = stored(db_url)
    area = tagger.scheme.areas[tiny_engine.taxonomy.area_of(message.concerns[0])]
    other = next(k for k in tagger.scheme.areas.values() if k != area)
    _edit(box, uid, {other}, {area})  # the area names no single topic: nothing to learn, the label stays
    report = tagger.sync_corrections()
    assert (report.keyword_corrections, report.keyword_updates) == (0, 1)
    assert area in box.flags("INBOX", uid) and other not in box.flags("INBOX", uid)
    _edit(box, uid, set(), ours(tagger.scheme, box.flags("INBOX", uid)))  # all tags cleared at once: no statement
    assert tagger.sync_corrections().keyword_corrections == 0 and area in box.flags("INBOX", uid)
    with session_scope(db_url) as session:
        review_message(session, tiny_engine.taxonomy, message.id, version=message.version, reviewer="sachbearbeitung",
                       action="correct", labels={"urgency": "existenzbedrohend"})
    report = tagger.sync_corrections()  # the tagger's own update after a review is not a person's edit
    assert (report.keyword_corrections, report.keyword_updates) == (0, 1)
    assert "KRM_existenzbedrohend" in box.flags("INBOX", uid)
    with session_scope(db_url) as session:
        assert len(session.scalars(select(Review).where(Review.message_id == message.id)).all()) == 1


def test_copies_follow_a_corrected_unit(tiny_engine, db_url) -> None:
    box = FakeMailbox(allow_keywords=False)
    uid = box.append("INBOX", mail(1))
    tagger = make(box, tiny_engine, db_url)
    tagger.run_once()
    [message] = stored(db_url)
    target = "leistungsbereich" if message.unit != "leistungsbereich" else "krm"
    with session_scope(db_url) as session:
        review_message(session, tiny_engine.taxonomy, message.id, version=message.version, reviewer="sachbearbeitung",
                       action="correct", labels={"routing": target})
    assert tagger.sync_corrections().copied == 1
    assert len(box.folders[f"KRM_an_{target}"].mails) == 1
    assert len(box.folders[f"KRM_an_{message.unit}"].mails) == 1  # the first copy stays: nothing is deleted
    assert len(box.folders["INBOX"].mails) == 1 and uid in box.folders["INBOX"].mails
    assert tagger.sync_corrections().copied == 0  # once
