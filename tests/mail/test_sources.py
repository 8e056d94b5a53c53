"""Reading .eml files, mbox files and Maildir folders built in tmp_path with the standard library."""
from __future__ import annotations

import mailbox
import os
from email.message import EmailMessage

import pytest

from triage.errors import InputError, MailError
from triage.mail.parse import parse_bytes
from triage.mail.sources import detect_kind, iter_mbox, iter_source


def message(subject: str, body: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Erika Musterfrau <erika.musterfrau@example.org>"
    mail["To"] = "beschwerde@jobcenter-musterstadt.example"
    mail["Subject"] = subject
    mail.set_content(body)
    return mail


def subjects(items) -> list[str]:
    return [parse_bytes(raw).subject for _, raw in items]


@pytest.fixture
def mbox_path(tmp_path):
    path = tmp_path / "posteingang.mbox"
    box = mailbox.mbox(path)
    box.add(message("Wartezeit", "Ich habe drei Stunden gewartet."))
    box.add(message("Bescheid fehlt", "Seit Januar kein Bescheid.\nFrom here on nothing special."))
    box.close()
    return path


@pytest.fixture
def maildir_path(tmp_path):
    path = tmp_path / "Maildir"
    box = mailbox.Maildir(path, create=True)
    box.add(message("Rückruf", "Niemand ruft zurück."))
    box.add(message("Umzug", "Die Umzugskosten wurden abgelehnt."))
    archive = box.add_folder("Archiv")
    archive.add(message("Alt", "Eine ältere Beschwerde."))
    return path


def test_eml_file(tmp_path):
    path = tmp_path / "nachricht.eml"
    path.write_bytes(message("Zahlung", "Die Zahlung fehlt.").as_bytes())
    items = list(iter_source(path))
    assert [source for source, _ in items] == [str(path)]
    assert subjects(items) == ["Zahlung"]


def test_mbox_file(mbox_path):
    items = list(iter_source(mbox_path))
    assert [source for source, _ in items] == [f"{mbox_path}#0", f"{mbox_path}#1"]
    assert subjects(items) == ["Wartezeit", "Bescheid fehlt"]
    assert not items[0][1].startswith(b"From ")


def test_mbox_is_recognised_without_suffix(mbox_path):
    plain = mbox_path.rename(mbox_path.with_name("Posteingang"))
    assert detect_kind(plain) == "mbox"
    assert subjects(iter_source(plain)) == ["Wartezeit", "Bescheid fehlt"]


def test_headers_without_suffix_are_one_mail(tmp_path):
    path = tmp_path / "nachricht"
    path.write_bytes(b"Subject: Termin\n\nMein Termin wurde abgesagt.\n")
    assert detect_kind(path) == "eml"


def test_empty_mbox_yields_nothing(tmp_path):
    path = tmp_path / "leer.mbox"
    path.write_bytes(b"")
    assert list(iter_source(path)) == []


def test_maildir(maildir_path):
    items = list(iter_source(maildir_path))
    assert sorted(subjects(items)) == ["Rückruf", "Umzug"]
    assert all(source.startswith(f"{maildir_path}#") for source, _ in items)
    assert [source for source, _ in items] == sorted(source for source, _ in items)


def test_maildir_with_subfolders(maildir_path):
    items = list(iter_source(maildir_path, subfolders=True))
    assert sorted(subjects(items)) == ["Alt", "Rückruf", "Umzug"]
    assert [source.split("#")[1].split("/")[0] for source, _ in items if "/" in source.split("#")[1]] == ["Archiv"]


def test_ids_are_stable(maildir_path):
    assert [source for source, _ in iter_source(maildir_path)] == [source for source, _ in iter_source(maildir_path)]


@pytest.mark.parametrize(("setup", "code"), [
    (lambda tmp: tmp / "fehlt.mbox", "M102"),
    (lambda tmp: tmp, "M103"),
    (lambda tmp: (tmp / "bild.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00") and tmp / "bild.png", "M103"),
    (lambda tmp: (tmp / "notiz.txt").write_text("nur Text ohne Kopfzeilen") and tmp / "notiz.txt", "M103"),
])
def test_unknown_or_missing_source_is_a_mail_error(tmp_path, setup, code):
    with pytest.raises(MailError) as caught:
        iter_source(setup(tmp_path))
    assert caught.value.code == code
    assert isinstance(caught.value, InputError)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads every file")
def test_unreadable_file_is_a_mail_error(tmp_path):
    path = tmp_path / "geheim.eml"
    path.write_bytes(b"Subject: x\n\ny\n")
    path.chmod(0)
    with pytest.raises(MailError) as caught:
        iter_source(path)
    assert caught.value.code == "M102"


def test_mbox_reader_reports_a_missing_file(tmp_path):
    with pytest.raises(MailError) as caught:
        list(iter_mbox(tmp_path / "weg.mbox"))
    assert caught.value.code == "M102"


def test_public_names():
    from triage.mail import sources

    assert sources.__all__ == ["SourceKind", "detect_kind", "iter_eml", "iter_mbox", "iter_maildir", "iter_source"]
