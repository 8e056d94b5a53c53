"""Smoke tests for the real-service fixtures in tests/services.py (PostgreSQL, Dovecot, Chromium)."""
from __future__ import annotations

import imaplib
import re
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.services import DovecotServer, free_port


def test_free_port_is_bindable() -> None:
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_postgres_select_version(postgres_url: str) -> None:
    sqlalchemy = pytest.importorskip("sqlalchemy")
    pytest.importorskip("psycopg", reason="psycopg not installed; run scripts/test-deps.sh")
    engine = sqlalchemy.create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            version = conn.execute(sqlalchemy.text("select version()")).scalar_one()
            database = conn.execute(sqlalchemy.text("select current_database()")).scalar_one()
    finally:
        engine.dispose()
    assert version.startswith("PostgreSQL")
    assert database == "triage_test"


def _imap(server: DovecotServer) -> imaplib.IMAP4:
    imap = imaplib.IMAP4(server.host, server.port, timeout=10)
    imap.login(server.user, server.password)
    return imap


def test_dovecot_keyword_round_trip(dovecot: DovecotServer) -> None:
    imap = _imap(dovecot)
    try:
        assert imap.create("KRM-Test")[0] == "OK"
        message = b"From: a@example.org\r\nSubject: Widerspruch\r\n\r\nHallo\r\n"
        assert imap.append("KRM-Test", None, None, message)[0] == "OK"
        imap.select("KRM-Test")
        permanent = imap.untagged_responses.get("OK", [])
        assert any(b"PERMANENTFLAGS" in line and b"\\*" in line for line in permanent)
        assert imap.store("1", "+FLAGS", "(KRM_test)")[0] == "OK"
        _, data = imap.fetch("1", "(FLAGS)")
        flags = re.search(rb"FLAGS \(([^)]*)\)", data[0]).group(1).split()
        assert b"KRM_test" in flags
    finally:
        imap.logout()


def test_dovecot_restart_keeps_mail(dovecot: DovecotServer) -> None:
    dovecot.stop()
    dovecot.start()
    imap = _imap(dovecot)
    try:
        status, _ = imap.select("INBOX")
        assert status == "OK"
    finally:
        imap.logout()


@pytest.fixture
def page_server() -> Iterator[str]:
    """A tiny HTTP server on 127.0.0.1 serving one German page."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = "<html><body><h1>Grüß Gott</h1></body></html>".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


def test_browser_reads_data_url(browser: Any) -> None:
    page = browser.new_page()
    try:
        page.goto("data:text/html,<h1>Hallo</h1>")
        assert page.inner_text("h1") == "Hallo"
    finally:
        page.close()


def test_browser_reads_local_page(browser: Any, page_server: str) -> None:
    page = browser.new_page()
    try:
        page.goto(page_server)
        assert page.inner_text("h1") == "Grüß Gott"
    finally:
        page.close()
