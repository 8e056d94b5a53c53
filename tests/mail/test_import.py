"""`triage import`: mbox and Maildir into the store, unreadable mail to quarantine, no repeats."""
from __future__ import annotations

import mailbox
import shutil

from sqlalchemy import select
from typer.testing import CliRunner

from triage.cli import app
from triage.store.db import session_scope
from triage.store.tables import AuditEntry, Message

GOOD = ("From: Lena Vogt <lena@example.org>\nSubject: Geld fehlt\nDate: Mon, 02 Nov 2026 09:12:00 +0100\n"
        "Content-Type: text/plain; charset=utf-8\n\nMein Geld ist diesen Monat nicht gekommen.\n\n"
        "Am 01.11.2026 schrieb Jobcenter:\n> Ihr Antrag ist eingegangen.\n")
BROKEN = b"\x00\x01\x02 \xff\xfe"


def test_import_mbox_quarantine_and_idempotency(tmp_path, settings_env, tiny_registry):
    shutil.copytree(tiny_registry.root, settings_env)
    box = mailbox.mbox(tmp_path / "eingang.mbox")
    box.add(GOOD.encode())
    box.add(GOOD.replace("Geld fehlt", "Nochmal").encode())
    box.add(b"Subject: leer\n\n   \n")
    box.flush()
    data = tmp_path / "data"
    runner = CliRunner()
    first = runner.invoke(app, ["import", str(tmp_path / "eingang.mbox"), "--data-dir", str(data)])
    assert first.exit_code == 0, first.output
    assert "2 neu, 0 schon da, 1 Quarantäne" in first.stdout
    again = runner.invoke(app, ["import", str(tmp_path / "eingang.mbox"), "--data-dir", str(data)])
    assert "0 neu, 3 schon da" in again.stdout
    with session_scope(f"sqlite:///{(data / 'triage.db').resolve()}") as session:
        stored = session.scalars(select(Message).order_by(Message.id)).all()
        assert len(stored) == 3 and stored[0].subject == "Geld fehlt" and stored[0].raw.startswith(b"From:")
        assert "Ihr Antrag ist eingegangen" not in stored[0].text  # the new part is what was classified
        assert b"Ihr Antrag ist eingegangen" in stored[0].raw  # and everything is kept
        assert stored[2].text.startswith("[Quarantäne]") and stored[2].needs_review
        reasons = session.scalars(select(AuditEntry.action)).all()
        assert "mail.quarantaene" in reasons


def test_import_unknown_path_is_one_clear_line(tmp_path, settings_env):
    result = CliRunner().invoke(app, ["import", str(tmp_path / "fehlt"), "--data-dir", str(tmp_path)])
    assert result.exit_code == 1 and result.stderr.startswith("Fehler:")
