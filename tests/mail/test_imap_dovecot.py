"""The IMAP tagger against a real Dovecot (fixture `dovecot` from tests/services.py).

Every test uses a folder of its own (the server is shared by the session) and a fresh SQLite
store. Keywords are counted from the server with a second, independent IMAP connection.
All mails are invented.
"""
from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator

import pytest
from imapclient import IMAPClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from triage.cli_mailbox import mailbox_app
from triage.config import get_settings
from triage.errors import MailboxError
from triage.mail.imap import ImapMailbox
from triage.mail.keywords import build_scheme, keywords_for, ours
from triage.mail.tagger import Tagger
from triage.store.db import migrate, session_scope
from triage.store.mailbox_state import MailboxMessage
from triage.store.messages import review_message
from triage.store.tables import AuditEntry, Message, Review

TEXTS = [
    ("Kein Geld", "Mein Geld ist diesen Monat nicht gekommen, das Konto ist leer und wir haben nichts zu essen."),
    ("Antrag liegt", "Seit sechs Wochen liegt mein Weiterbewilligungsantrag bei Ihnen und niemand bearbeitet ihn."),
    ("Hotline", "Die Hotline ist seit Tagen nicht erreichbar, ich haenge immer nur in der Warteschleife."),
    ("Umzug", "Die Zusicherung zum Umzug wurde verweigert, obwohl die neue Wohnung guenstiger ist."),
    ("Lob", "Ich moechte mich bei Frau Muster am Empfang fuer die freundliche Hilfe bedanken."),
]


def mail(n: int) -> bytes:
    subject, body = TEXTS[n % len(TEXTS)]
    return (f"From: Max Mustermann <max.mustermann{n}@example.org>\r\nTo: krm@jobcenter.example\r\n"
            f"Subject: {subject}\r\nMessage-ID: <dovecot-{n}-{uuid.uuid4().hex[:8]}@example.org>\r\n"
            f"Date: Tue, 04 Feb 2025 10:{n % 60:02d}:00 +0100\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            f"Sehr geehrte Damen und Herren,\r\n\r\n{body}\r\n\r\nViele Gruesse\r\nMax Mustermann\r\n").encode()


def client(dovecot) -> IMAPClient:
    imap = IMAPClient(dovecot.host, dovecot.port, ssl=False, timeout=10)
    imap.login(dovecot.user, dovecot.password)
    return imap


@pytest.fixture
def folder(dovecot, request) -> Iterator[str]:
    name = "T-" + request.node.name.removeprefix("test_").replace("_", "-")[:40]
    with client(dovecot) as imap:
        imap.create_folder(name)
    yield name


@pytest.fixture
def db_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'triage.db'}"
    migrate(url)
    return url


def append(dovecot, folder: str, *raws: bytes) -> None:
    with client(dovecot) as imap:
        for raw in raws:
            imap.append(folder, raw)


def server_flags(dovecot, folder: str) -> dict[int, set[str]]:
    """FETCH FLAGS over an independent connection: what a mail client would see."""
    with client(dovecot) as imap:
        imap.select_folder(folder, readonly=True)
        uids = imap.search(["ALL"])
        return {uid: {f.decode() for f in flags} for uid, flags in imap.get_flags(uids).items()}


def mailbox(dovecot, **kw) -> ImapMailbox:
    return ImapMailbox(dovecot.host, dovecot.user, dovecot.password, port=dovecot.port, security="none", **kw)


def tagger(dovecot, engine, db_url, folder, sleeps=None, **kw) -> Tagger:
    return Tagger(mailbox(dovecot), engine, db_url, folder, sleep=(sleeps.append if sleeps is not None
                                                                    else lambda s: None), **kw)


def stored(db_url) -> list[Message]:
    with session_scope(db_url) as session:
        return list(session.scalars(select(Message).order_by(Message.id)))


def check_tags(dovecot, folder, db_url, engine) -> dict[int, set[str]]:
    """Every mail on the server carries exactly the keywords of its stored labels, one per group."""
    scheme = build_scheme(engine.taxonomy)
    flags = server_flags(dovecot, folder)
    with session_scope(db_url) as session:
        rows = session.execute(select(Message, MailboxMessage.quarantined)
                               .join(MailboxMessage, MailboxMessage.message_id == Message.id)).all()
    messages = {m.source_uid: (m, quarantined) for m, quarantined in rows}
    assert sorted(messages) == sorted(flags), "stored UIDs differ from the server's"
    assert len(rows) == len(stored(db_url)), "a mail was stored twice"
    for uid, have in flags.items():
        m, quarantined = messages[uid]
        want = keywords_for(scheme, engine.taxonomy, {"concerns": m.concerns, "urgency": m.urgency,
                                                      "routing": m.unit}, m.needs_review, quarantined)
        assert ours(scheme, have) == want, f"UID {uid}"
        assert len(have & set(scheme.areas.values())) == 1 and len(have & set(scheme.units.values())) == 1
        assert len(have & set(scheme.urgencies.values())) <= 1
        assert "\\Seen" not in have, "the tagger must not mark mail as read"
    return flags


def test_imap_tags_new_mail_on_the_server(dovecot, folder, db_url, tiny_engine) -> None:
    append(dovecot, folder, *(mail(n) for n in range(5)))
    report = tagger(dovecot, tiny_engine, db_url, folder).run_once()
    assert (report.stored, report.tagged, report.quarantined) == (5, 5, 0)
    check_tags(dovecot, folder, db_url, tiny_engine)
    assert {m.source_mailbox for m in stored(db_url)} == {f"{dovecot.user}@{dovecot.host}/{folder}"}


def test_imap_restart_neither_skips_nor_repeats(dovecot, folder, db_url, tiny_engine) -> None:
    append(dovecot, folder, *(mail(n) for n in range(3)))
    first = tagger(dovecot, tiny_engine, db_url, folder)
    assert first.run_once().stored == 3
    first.mailbox.close()
    append(dovecot, folder, mail(3), mail(4))
    second = tagger(dovecot, tiny_engine, db_url, folder)  # a new process: new connection, same store
    assert second.run_once().stored == 2
    assert second.run_once().seen == 0
    flags = check_tags(dovecot, folder, db_url, tiny_engine)
    assert len(flags) == 5 and len(stored(db_url)) == 5


def _cut(box: ImapMailbox) -> None:
    """The network drops the tagger's connection (Dovecot keeps open sessions alive across a restart)."""
    box._client.socket().shutdown(socket.SHUT_RDWR)


def test_imap_server_restart_mid_run(dovecot, folder, db_url, tiny_engine) -> None:
    append(dovecot, folder, mail(0), mail(1))
    worker = tagger(dovecot, tiny_engine, db_url, folder, batch_size=2, retries=0)
    assert worker.run_once().stored == 2
    try:
        dovecot.stop()
        _cut(worker.mailbox)
        with pytest.raises(MailboxError) as caught:  # no retries allowed: the error surfaces as M201
            worker.run_once()
        assert caught.value.code == "M201" and caught.value.transient
    finally:
        dovecot.start()
    assert worker.run_once().seen == 0  # connects again
    append(dovecot, folder, mail(2), mail(3), mail(4))
    sleeps: list[float] = []

    def restart_during_backoff(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:
            dovecot.start()

    worker.retries, worker.sleep = 5, restart_during_backoff
    try:
        dovecot.stop()  # down while the tagger is working: the first reconnect fails, the second succeeds
        _cut(worker.mailbox)
        report = worker.run_once()
    finally:
        dovecot.start()
    assert report.stored == 3 and sleeps == [1.0, 2.0]
    check_tags(dovecot, folder, db_url, tiny_engine)
    assert len(stored(db_url)) == 5
    assert worker.run_once().seen == 0


def test_imap_unparseable_mail_goes_to_quarantine(dovecot, folder, db_url, tiny_engine) -> None:
    append(dovecot, folder, mail(0), b"From: unbekannt@example.org\r\nMessage-ID: <leer@example.org>\r\n\r\n",
           mail(1))
    report = tagger(dovecot, tiny_engine, db_url, folder).run_once()
    assert (report.stored, report.quarantined) == (2, 1)
    flags = check_tags(dovecot, folder, db_url, tiny_engine)
    assert [uid for uid, have in flags.items() if "KRM_quarantaene" in have] == [2]
    with session_scope(db_url) as session:
        [audit] = session.scalars(select(AuditEntry).where(AuditEntry.action == "mail.quarantaene"))
        assert audit.detail["uid"] == 2 and audit.detail["reason"]


def test_imap_keywords_follow_a_review(dovecot, folder, db_url, tiny_engine) -> None:
    append(dovecot, folder, mail(2), mail(3))
    worker = tagger(dovecot, tiny_engine, db_url, folder)
    worker.run_once()
    first = stored(db_url)[0]
    with session_scope(db_url) as session:
        review_message(session, tiny_engine.taxonomy, first.id, version=first.version, reviewer="sachbearbeitung",
                       action="correct", labels={"concerns": ["leistung.auszahlung"], "urgency": "existenzbedrohend",
                                                 "routing": "ombudsstelle"})
    assert worker.sync_corrections().keyword_updates == 1
    flags = check_tags(dovecot, folder, db_url, tiny_engine)
    assert ours(worker.scheme, flags[first.source_uid]) == {"KRM_leistung", "KRM_existenzbedrohend",
                                                            "KRM_an_ombudsstelle"}


def test_imap_move_into_unit_folder_corrects_routing(dovecot, folder, db_url, tiny_engine) -> None:
    target = folder + "-ombud"
    append(dovecot, folder, mail(1))
    worker = tagger(dovecot, tiny_engine, db_url, folder, unit_folders={target: "ombudsstelle"})
    worker.run_once()
    [message] = stored(db_url)
    assert message.unit != "ombudsstelle"
    with client(dovecot) as imap:  # a person drags the mail into the Ombudsstelle's folder
        imap.create_folder(target)
        imap.select_folder(folder)
        imap.move(imap.search(["ALL"]), target)
    assert worker.sync_corrections().routing_corrections == 1
    with session_scope(db_url) as session:
        [review] = session.scalars(select(Review))
        assert review.reviewer == "postfach" and review.labels["routing"] == "ombudsstelle"
    [have] = server_flags(dovecot, target).values()
    assert "KRM_an_ombudsstelle" in have and f"KRM_an_{message.unit}" not in have
    assert worker.sync_corrections().routing_corrections == 0


def test_imap_idle_signals_new_mail(dovecot, folder) -> None:
    box = mailbox(dovecot)
    try:
        box.select(folder)
        assert box.supports_keywords()
        timer = threading.Timer(0.5, append, (dovecot, folder, mail(0)))
        timer.start()
        assert box.idle(10) is True
        timer.join()
        assert box.idle(0.3) is False
    finally:
        box.close()


def test_imap_fetch_does_not_mark_read_and_errors_are_converted(dovecot, folder) -> None:
    append(dovecot, folder, mail(0))
    box = mailbox(dovecot)
    try:
        validity, uids = box.select(folder)
        assert validity > 0 and box.fetch(uids)[uids[0]].startswith(b"From: Max")
        assert "\\Seen" not in box.keywords(uids)[uids[0]]
        with pytest.raises(MailboxError) as caught:
            box.select("Gibt-es-nicht")
        assert caught.value.code == "M203"
    finally:
        box.close()
    wrong = ImapMailbox(dovecot.host, dovecot.user, "falsch", port=dovecot.port, security="none")
    with pytest.raises(MailboxError) as caught:
        wrong.select(folder)
    assert caught.value.code == "M202" and not caught.value.transient and "falsch" not in str(caught.value)
    with pytest.raises(MailboxError) as caught:  # TLS against a plain-text port
        ImapMailbox(dovecot.host, dovecot.user, "x", port=dovecot.port, security="tls", timeout=5).select(folder)
    assert caught.value.code in ("M205", "M201")


@pytest.fixture
def cli_env(monkeypatch, dovecot, tiny_registry):
    monkeypatch.setenv("TRIAGE_MODELS_DIR", str(tiny_registry.root))
    monkeypatch.setenv("TRIAGE_IMAP_HOST", dovecot.host)
    monkeypatch.setenv("TRIAGE_IMAP_PORT", str(dovecot.port))
    monkeypatch.setenv("TRIAGE_IMAP_USER", dovecot.user)
    monkeypatch.setenv("TRIAGE_IMAP_PASSWORD", dovecot.password)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_imap_cli_run_once(cli_env, dovecot, folder, tmp_path, taxonomy) -> None:
    append(dovecot, folder, mail(0), mail(1), mail(2))
    args = ["run-once", "--folder", folder, "--security", "none", "--data-dir", str(tmp_path / "data")]
    result = CliRunner().invoke(mailbox_app, args)
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("3 neue E-Mails: 3 gespeichert")
    assert dovecot.password not in result.output
    again = CliRunner().invoke(mailbox_app, args)
    assert again.exit_code == 0 and again.stdout.startswith("0 neue E-Mails")
    url = f"sqlite:///{(tmp_path / 'data' / 'triage.db').resolve()}"
    with session_scope(url) as session:
        assert session.scalar(select(func.count(Message.id))) == 3
    assert all(ours(build_scheme(taxonomy), f) for f in server_flags(dovecot, folder).values())


def test_imap_cli_needs_password_from_environment(cli_env, monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("TRIAGE_IMAP_PASSWORD")
    result = CliRunner().invoke(mailbox_app, ["run-once", "--security", "none", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "M206" in result.output and "TRIAGE_IMAP_PASSWORD" in result.output
    assert "--password" not in CliRunner().invoke(mailbox_app, ["run-once", "--help"]).output


def test_imap_cli_reads_a_configuration_file(cli_env, monkeypatch, dovecot, folder, tmp_path) -> None:
    for name in ("TRIAGE_IMAP_HOST", "TRIAGE_IMAP_PORT", "TRIAGE_IMAP_USER", "TRIAGE_IMAP_PASSWORD"):
        monkeypatch.delenv(name)
    config = tmp_path / "postfach.toml"
    config.write_text(f'[imap]\nhost = "{dovecot.host}"\nport = {dovecot.port}\nuser = "{dovecot.user}"\n'
                      f'password = "{dovecot.password}"\nfolder = "{folder}"\nsecurity = "none"\n', encoding="utf-8")
    append(dovecot, folder, mail(0))
    result = CliRunner().invoke(mailbox_app, ["run-once", "--config", str(config), "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("1 neue E-Mails") and dovecot.password not in result.output
    missing = CliRunner().invoke(mailbox_app, ["run-once", "--data-dir", str(tmp_path / "d")])
    assert missing.exit_code == 1 and "IMAP-Server (--host) fehlt" in missing.output


def test_imap_uidvalidity_change_rescans_without_duplicates(dovecot, folder, db_url, tiny_engine) -> None:
    known = [mail(n) for n in range(3)]
    append(dovecot, folder, *known)
    first = tagger(dovecot, tiny_engine, db_url, folder)
    assert first.run_once().stored == 3
    first.mailbox.close()
    with client(dovecot) as imap:  # the folder is rebuilt on the server: new UIDVALIDITY, new UIDs
        before = imap.select_folder(folder)[b"UIDVALIDITY"]
        imap.select_folder("INBOX")
        imap.delete_folder(folder)
        imap.create_folder(folder)
        assert imap.select_folder(folder)[b"UIDVALIDITY"] != before
    append(dovecot, folder, *known, mail(3))  # the same three mails again, and one new
    second = tagger(dovecot, tiny_engine, db_url, folder)
    report = second.run_once()
    assert report.stored == 1  # only the new mail; the three known ones are recognised
    flags = check_tags(dovecot, folder, db_url, tiny_engine)
    assert len(flags) == 4 and len(stored(db_url)) == 4


def test_imap_deleted_message_loses_its_keywords_and_is_not_stored_again(dovecot, folder, db_url,
                                                                        tiny_engine) -> None:
    from triage.store.deletion import delete_message

    known = [mail(0), mail(1)]
    append(dovecot, folder, *known)
    worker = tagger(dovecot, tiny_engine, db_url, folder)
    worker.run_once()
    gone = stored(db_url)[0]
    with session_scope(db_url) as session:
        delete_message(session, gone.id, actor="datenschutz", reason="Antrag auf Löschung")
    assert worker.sync_corrections().keyword_updates == 1
    flags = server_flags(dovecot, folder)
    assert ours(worker.scheme, flags[gone.source_uid]) == set() and len(flags) == 2  # the mail stays
    worker.mailbox.close()
    with client(dovecot) as imap:  # the folder is rebuilt: new UIDVALIDITY, the same mails again
        imap.select_folder("INBOX")
        imap.delete_folder(folder)
        imap.create_folder(folder)
    append(dovecot, folder, *known)
    again = tagger(dovecot, tiny_engine, db_url, folder).run_once()
    assert (again.stored, again.erased) == (0, 1)
    assert gone.id not in [m.id for m in stored(db_url)] and len(stored(db_url)) == 1
    untagged = [uid for uid, have in server_flags(dovecot, folder).items() if not ours(worker.scheme, have)]
    assert len(untagged) == 1


def test_imap_keyword_changed_in_a_mail_client_is_a_correction(dovecot, folder, db_url, tiny_engine) -> None:
    append(dovecot, folder, mail(1))
    worker = tagger(dovecot, tiny_engine, db_url, folder)
    worker.run_once()
    [message] = stored(db_url)
    target = "leistungsbereich" if message.unit != "leistungsbereich" else "krm"
    with client(dovecot) as imap:  # a colleague re-tags the mail in her mail client
        imap.select_folder(folder)
        imap.remove_flags([message.source_uid], [worker.scheme.units[message.unit]])
        imap.add_flags([message.source_uid], [f"KRM_an_{target}"])
    assert worker.sync_corrections().keyword_corrections == 1
    with session_scope(db_url) as session:
        assert session.get(Message, message.id).unit == target
    assert f"KRM_an_{target}" in server_flags(dovecot, folder)[message.source_uid]
    assert worker.sync_corrections().keyword_corrections == 0
    check_tags(dovecot, folder, db_url, tiny_engine)
