"""Throwaway real services for tests: PostgreSQL, Dovecot IMAP and headless Chromium.

Each session-scoped fixture starts its own instance in a temp folder on a free
127.0.0.1 port and tears it down afterwards; it skips with a clear reason when
the component is not installed (`scripts/test-deps.sh` installs them).
Use them by name: `postgres_url`, `dovecot`, `browser`.
"""
from __future__ import annotations

import glob
import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HOST = "127.0.0.1"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_for_port(
    port: int, timeout: float = 15.0, proc: subprocess.Popen | None = None, log: Path | None = None
) -> None:
    """Wait until something accepts connections on HOST:port, or fail with the log's tail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            break
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
    raise RuntimeError(f"nothing answers on {HOST}:{port}\n{tail}")


def _as_user(user: str, cmd: list[str]) -> list[str]:
    """Run `cmd` as `user` when we are root (initdb refuses root)."""
    return ["runuser", "-u", user, "--", *cmd] if os.geteuid() == 0 else cmd


# --- PostgreSQL ---------------------------------------------------------------------------------------------------

def _pg_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL cluster with database `triage_test`; yields its SQLAlchemy URL."""
    bindir = _pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL not installed (no /usr/lib/postgresql/*/bin/initdb); run scripts/test-deps.sh")
    if os.geteuid() == 0:
        try:
            pg = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("PostgreSQL: no `postgres` user to run initdb as")
    root = Path(tempfile.mkdtemp(prefix="krm-pg-"))
    if os.geteuid() == 0:
        os.chown(root, pg.pw_uid, pg.pw_gid)
    data, log, port = root / "data", root / "server.log", free_port()

    def run(cmd: list[str]) -> None:
        subprocess.run(_as_user("postgres", cmd), check=True, capture_output=True, text=True)

    try:
        run([str(bindir / "initdb"), "-D", str(data), "--auth=trust", "-U", "postgres", "-E", "UTF8", "--no-locale"])
        opts = f"-c listen_addresses={HOST} -p {port} -c unix_socket_directories={root} -c fsync=off"
        run([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", opts, "-w", "-t", "30", "start"])
        run([str(bindir / "createdb"), "-h", HOST, "-p", str(port), "-U", "postgres", "triage_test"])
    except subprocess.CalledProcessError as e:
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {e.stderr}\n{tail}") from e
    try:
        yield f"postgresql+psycopg://postgres@{HOST}:{port}/triage_test"
    finally:
        subprocess.run(_as_user("postgres", [str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


# --- Dovecot ------------------------------------------------------------------------------------------------------

def _dovecot_config(root: Path, port: int, version: tuple[int, ...]) -> str:
    """A minimal config for the installed Dovecot (2.3 syntax, or 2.4's where it differs)."""
    nobody, nogroup = pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid
    common = f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
listen = {HOST}
protocols = imap
ssl = no
auth_mechanisms = plain login
service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
}}
"""
    if version >= (2, 4):
        return f"""dovecot_config_version = 2.4.0
dovecot_storage_version = 2.4.0
{common}auth_allow_cleartext = yes
passdb passwd-file {{
  passwd_file_path = {root}/passwd
}}
userdb static {{
  fields {{
    uid = {nobody}
    gid = {nogroup}
    home = {root}/mail/%{{user}}
  }}
}}
mail_driver = maildir
mail_path = ~/Maildir
"""
    return f"""{common}disable_plaintext_auth = no
passdb {{
  driver = passwd-file
  args = {root}/passwd
}}
userdb {{
  driver = static
  args = uid={nobody} gid={nogroup} home={root}/mail/%u
}}
mail_location = maildir:~/Maildir
"""


class DovecotServer:
    """A Dovecot IMAP server of our own; `stop()` and `start()` simulate a restart."""

    user = "krm"
    password = "secret"

    def __init__(self, root: Path, binary: str) -> None:
        self.root, self.binary, self.host, self.port = root, binary, HOST, free_port()
        out = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
        version = tuple(int(x) for x in out.split()[0].split(".")[:2])
        self.config_path = root / "dovecot.conf"
        self.config_path.write_text(_dovecot_config(root, self.port, version))
        (root / "passwd").write_text(f"{self.user}:{{PLAIN}}{self.password}\n")
        (root / "mail").mkdir()
        os.chown(root / "mail", pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid)
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        if self.proc is None:
            self.proc = subprocess.Popen([self.binary, "-F", "-c", str(self.config_path)],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
            wait_for_port(self.port, proc=self.proc, log=self.root / "dovecot.log")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


def new_dovecot(prefix: str = "krm-dovecot-") -> DovecotServer | str:
    """A Dovecot server in a fresh temp folder (not started), or why there can be none."""
    binary = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/sbin")
    if binary is None or not Path("/usr/lib/dovecot/imap").exists():
        return "dovecot-imapd not installed: IMAP tests skipped; run scripts/test-deps.sh"
    if os.geteuid() != 0:
        return "the Dovecot server needs root (mail stored as nobody)"
    root = Path(tempfile.mkdtemp(prefix=prefix))
    root.chmod(0o755)
    return DovecotServer(root, binary)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """A running Dovecot with user `krm` / `secret` and plain-text IMAP on a free port."""
    server = new_dovecot()
    if isinstance(server, str):
        pytest.skip(server)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)


# --- Chromium through Playwright ----------------------------------------------------------------------------------

def chromium_path() -> str | None:
    """Debian's Chromium binary (the real one, not the /usr/bin shell wrapper, when present)."""
    for candidate in ("/usr/lib/chromium/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless Chromium (playwright.sync_api.Browser); closed at the end of the session."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed; run scripts/test-deps.sh")
    path = chromium_path()
    if path is None:
        pytest.skip("chromium not installed: browser tests skipped; run scripts/test-deps.sh")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
