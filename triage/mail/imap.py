"""An IMAP mailbox behind a small interface: the real server (imapclient) and an in-memory fake.

The tagger only sees `Mailbox`: select a folder, fetch raw mails without marking them read
(BODY.PEEK[]), read and set keywords, copy, wait for news (IDLE, or polling where the server
lacks it). `ImapMailbox` is the one module that touches `imapclient`, `ssl` and socket errors:
they all become a `MailboxError` here (M201 = connection lost, worth retrying; the others are not).
`FakeMailbox` behaves like a small server for unit tests, including lost connections and a
folder whose UIDVALIDITY changes.
"""
from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, Protocol, runtime_checkable

from imapclient import IMAPClient, exceptions

from ..errors import MailboxError

__all__ = ["Mailbox", "ImapMailbox", "FakeMailbox", "Security", "SECURITIES", "chunks"]

log = logging.getLogger(__name__)

Security = Literal["tls", "starttls", "none"]
SECURITIES: tuple[str, ...] = ("tls", "starttls", "none")
CHUNK = 200  # UIDs per FETCH command: keeps command lines and answers of a big folder small
_NEWS = {b"EXISTS", b"RECENT"}


@runtime_checkable
class Mailbox(Protocol):
    """What the tagger needs from a mail server. `name` identifies the account (user@host)."""

    name: str

    def select(self, folder: str, *, after_uid: int = 0, since: date | None = None) -> tuple[int, list[int]]:
        """Open `folder`; (UIDVALIDITY, UIDs above `after_uid`, received on or after `since`), ascending."""

    def fetch(self, uids: Sequence[int]) -> dict[int, bytes]:
        """Raw mails of the selected folder, without setting \\Seen. Vanished UIDs are missing."""

    def keywords(self, uids: Sequence[int]) -> dict[int, set[str]]:
        """Flags of each mail (keywords and system flags such as \\Seen)."""

    def set_keywords(self, uid: int, add: Iterable[str], remove: Iterable[str] = ()) -> None: ...

    def copy(self, uid: int, folder: str) -> None:
        """Copy a mail into `folder` (created when missing)."""

    def move(self, uid: int, folder: str) -> None: ...

    def supports_keywords(self) -> bool:
        """Whether the selected folder keeps new keywords (PERMANENTFLAGS contains \\*)."""

    def idle(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds in the selected folder; True when the server signalled new mail."""

    def close(self) -> None: ...


def chunks(items: Sequence[int], size: int = CHUNK) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


# --- the real server --------------------------------------------------------------------------


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text[:300] if text else type(exc).__name__


class ImapMailbox:
    """An IMAP account through imapclient. Connects lazily; after a lost connection the next call
    connects again (the caller selects its folder again). The password is kept, never shown."""

    def __init__(self, host: str, user: str, password: str, *, port: int | None = None, security: str = "tls",
                 timeout: float = 30.0, ssl_context: ssl.SSLContext | None = None, poll_seconds: float = 60.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if security not in SECURITIES:
            raise MailboxError("M207", security=security)
        if not password:
            raise MailboxError("M206")
        self.host, self.user, self.security, self.timeout = host, user, security, timeout
        self.port = port or (993 if security == "tls" else 143)
        self.name = f"{user}@{host}"
        self.poll_seconds = poll_seconds
        self._password = password
        self._ssl_context = ssl_context
        self._sleep = sleep
        self._client: IMAPClient | None = None
        self._permanent: tuple = ()

    def __repr__(self) -> str:
        return f"ImapMailbox({self.user}@{self.host}:{self.port}, security={self.security})"

    @property
    def server(self) -> str:
        return f"{self.host}:{self.port}"

    def _drop(self) -> None:
        client, self._client, self._permanent = self._client, None, ()
        if client is not None:
            try:
                client.shutdown()
            except Exception:  # the connection is already broken; nothing more to close
                pass

    @contextmanager
    def _guard(self, command: str) -> Iterator[None]:
        """imapclient, ssl and socket errors → MailboxError; a broken connection is dropped."""
        try:
            yield
        except MailboxError:
            raise
        except exceptions.LoginError as exc:
            self._drop()
            raise MailboxError("M202", user=self.user, server=self.server, reason=_reason(exc)) from exc
        except ssl.SSLCertVerificationError as exc:
            self._drop()
            raise MailboxError("M205", server=self.server, reason=_reason(exc)) from exc
        except (exceptions.IMAPClientAbortError, OSError, EOFError) as exc:
            self._drop()
            raise MailboxError("M201", server=self.server, reason=_reason(exc)) from exc
        except exceptions.IMAPClientError as exc:
            raise MailboxError("M204", command=command, reason=_reason(exc)) from exc

    def _connect(self) -> IMAPClient:
        if self._client is not None:
            return self._client
        context = self._ssl_context or ssl.create_default_context()
        with self._guard("LOGIN"):
            client = self._open(context)
            self._client = client  # from here on, _guard closes it when a command fails
            client.login(self.user, self._password)
        return client

    def _open(self, context: ssl.SSLContext) -> IMAPClient:
        """A connection with TLS as configured; a failed handshake is M205 (retrying will not help)."""
        client = None
        try:
            client = IMAPClient(self.host, self.port, ssl=self.security == "tls",
                                ssl_context=context if self.security == "tls" else None, timeout=self.timeout)
            if self.security == "starttls":
                client.starttls(context)
        except (ssl.SSLError, exceptions.CapabilityError) as exc:
            if client is not None:
                client.shutdown()
            raise MailboxError("M205", server=self.server, reason=_reason(exc)) from exc
        return client

    def select(self, folder: str, *, after_uid: int = 0, since: date | None = None) -> tuple[int, list[int]]:
        client = self._connect()
        with self._guard("SELECT"):
            try:
                info = client.select_folder(folder)
            except exceptions.IMAPClientAbortError:
                raise
            except exceptions.IMAPClientError as exc:
                raise MailboxError("M203", folder=folder, reason=_reason(exc)) from exc
            self._permanent = tuple(info.get(b"PERMANENTFLAGS", ()))
            criteria: list = ["UID", f"{after_uid + 1}:*"] if after_uid else ["ALL"]
            if since is not None:
                criteria += ["SINCE", since]
            uids = client.search(criteria)
        # "n:*" always names the last mail, even when its UID is below n
        return int(info[b"UIDVALIDITY"]), sorted(uid for uid in uids if uid > after_uid)

    def fetch(self, uids: Sequence[int]) -> dict[int, bytes]:
        client = self._connect()
        found: dict[int, bytes] = {}
        with self._guard("FETCH"):
            for part in chunks(sorted(uids)):
                for uid, data in client.fetch(part, [b"BODY.PEEK[]"]).items():
                    body = data.get(b"BODY[]")
                    if body is not None:
                        found[uid] = bytes(body)
        return found

    def keywords(self, uids: Sequence[int]) -> dict[int, set[str]]:
        client = self._connect()
        found: dict[int, set[str]] = {}
        with self._guard("FETCH FLAGS"):
            for part in chunks(sorted(uids)):
                for uid, flags in client.get_flags(part).items():
                    found[uid] = {_text(flag) for flag in flags}
        return found

    def set_keywords(self, uid: int, add: Iterable[str], remove: Iterable[str] = ()) -> None:
        client = self._connect()
        add, remove = sorted(add), sorted(remove)
        with self._guard("STORE"):
            if add:
                client.add_flags([uid], [k.encode("ascii") for k in add], silent=True)
            if remove:
                client.remove_flags([uid], [k.encode("ascii") for k in remove], silent=True)

    def copy(self, uid: int, folder: str) -> None:
        client = self._connect()
        with self._guard("COPY"):
            if not client.folder_exists(folder):
                client.create_folder(folder)
            client.copy([uid], folder)

    def move(self, uid: int, folder: str) -> None:
        client = self._connect()
        with self._guard("MOVE"):
            if not client.has_capability("MOVE"):
                raise MailboxError("M208", server=self.server, capability="MOVE")
            if not client.folder_exists(folder):
                client.create_folder(folder)
            client.move([uid], folder)

    def supports_keywords(self) -> bool:
        return b"\\*" in self._permanent

    def idle(self, timeout: float) -> bool:
        client = self._connect()
        with self._guard("IDLE"):
            if not client.has_capability("IDLE"):
                self._sleep(min(timeout, self.poll_seconds))
                _text_, responses = client.noop()
                return _has_news(responses)
            client.idle()
            try:
                responses = client.idle_check(timeout)
            finally:
                _done, more = client.idle_done()
        return _has_news([*responses, *more])

    def close(self) -> None:
        client = self._client
        if client is None:
            return
        try:
            client.logout()
        except Exception:  # closing is best effort: a dead connection needs no goodbye
            pass
        self._drop()


def _text(flag: bytes | str) -> str:
    return flag.decode("utf-8", errors="replace") if isinstance(flag, bytes) else str(flag)


def _has_news(responses: Iterable) -> bool:
    return any(isinstance(r, tuple) and len(r) > 1 and r[1] in _NEWS for r in responses)


# --- the fake ---------------------------------------------------------------------------------


@dataclass
class FakeMail:
    raw: bytes
    flags: set[str] = field(default_factory=set)
    received: date = field(default_factory=date.today)


@dataclass
class FakeFolder:
    uidvalidity: int
    next_uid: int = 1
    mails: dict[int, FakeMail] = field(default_factory=dict)


class FakeMailbox:
    """An in-memory mail server for unit tests.

    Test helpers: `append`, `renumber` (new UIDVALIDITY, as after a server rebuild), `fail_next`
    (the next calls lose the connection), `allow_keywords=False` (a server without custom keywords).
    """

    def __init__(self, name: str = "krm@fake.example", *, allow_keywords: bool = True) -> None:
        self.name = name
        self.allow_keywords = allow_keywords
        self.folders: dict[str, FakeFolder] = {}
        self.selected: str | None = None
        self.calls: list[str] = []
        self._failures = 0
        self._news = False
        self.closed = 0

    # helpers for tests
    def append(self, folder: str, raw: bytes, flags: Iterable[str] = (), received: date | None = None) -> int:
        box = self.folders.setdefault(folder, FakeFolder(uidvalidity=1000 + len(self.folders)))
        uid, box.next_uid = box.next_uid, box.next_uid + 1
        box.mails[uid] = FakeMail(bytes(raw), set(flags), received or date.today())
        self._news = self._news or folder == self.selected
        return uid

    def renumber(self, folder: str, keep_flags: bool = True) -> int:
        box = self.folders[folder]
        mails = [box.mails[uid] for uid in sorted(box.mails)]
        fresh = FakeFolder(uidvalidity=box.uidvalidity + 1)
        for mail in mails:
            fresh.mails[fresh.next_uid] = FakeMail(mail.raw, set(mail.flags) if keep_flags else set(), mail.received)
            fresh.next_uid += 1
        self.folders[folder] = fresh
        return fresh.uidvalidity

    def fail_next(self, calls: int = 1) -> None:
        self._failures += calls

    def flags(self, folder: str, uid: int) -> set[str]:
        return set(self.folders[folder].mails[uid].flags)

    # the Mailbox interface
    def _call(self, name: str) -> None:
        self.calls.append(name)
        if self._failures:
            self._failures -= 1
            self.selected = None
            raise MailboxError("M201", server=self.name, reason="Verbindung abgebrochen (Test)")

    def _box(self) -> FakeFolder:
        if self.selected is None:
            raise MailboxError("M204", command="FETCH", reason="kein Ordner ausgewählt")
        return self.folders[self.selected]

    def select(self, folder: str, *, after_uid: int = 0, since: date | None = None) -> tuple[int, list[int]]:
        self._call("select")
        if folder not in self.folders:
            raise MailboxError("M203", folder=folder, reason="NO Mailbox doesn't exist")
        self.selected = folder
        box = self.folders[folder]
        return box.uidvalidity, [uid for uid, mail in sorted(box.mails.items())
                                 if uid > after_uid and (since is None or mail.received >= since)]

    def fetch(self, uids: Sequence[int]) -> dict[int, bytes]:
        self._call("fetch")
        box = self._box()
        return {uid: box.mails[uid].raw for uid in uids if uid in box.mails}

    def keywords(self, uids: Sequence[int]) -> dict[int, set[str]]:
        self._call("keywords")
        box = self._box()
        return {uid: set(box.mails[uid].flags) for uid in uids if uid in box.mails}

    def set_keywords(self, uid: int, add: Iterable[str], remove: Iterable[str] = ()) -> None:
        self._call("set_keywords")
        if not self.allow_keywords:
            raise MailboxError("M204", command="STORE", reason="NO keywords not allowed")
        mail = self._box().mails[uid]
        mail.flags = (mail.flags | set(add)) - set(remove)

    def copy(self, uid: int, folder: str) -> None:
        self._call("copy")
        mail = self._box().mails[uid]
        flags = mail.flags if self.allow_keywords else {f for f in mail.flags if f.startswith("\\")}
        self.append(folder, mail.raw, flags, mail.received)

    def move(self, uid: int, folder: str) -> None:
        self._call("move")
        mail = self._box().mails.pop(uid)
        self.append(folder, mail.raw, mail.flags, mail.received)

    def supports_keywords(self) -> bool:
        return self.allow_keywords

    def idle(self, timeout: float) -> bool:
        self._call("idle")
        news, self._news = self._news, False
        return news

    def close(self) -> None:
        self.closed += 1
        self.selected = None
