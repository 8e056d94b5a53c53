"""A real service (`triage serve`, uvicorn) on a free loopback port, with the tiny model, a
SQLite store in a temp folder, one clerk account and an API token."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass

import httpx
import pytest

from tests.services import free_port, wait_for_port


@dataclass
class LiveServer:
    url: str
    user: str
    password: str
    token: str
    admin_password: str = ""

    def store(self, text: str, subject: str, **extra) -> dict:
        response = httpx.post(f"{self.url}/v1/messages", json={"text": text, "subject": subject, **extra},
                              headers={"Authorization": f"Bearer {self.token}"}, timeout=30)
        response.raise_for_status()
        return response.json()

    def review(self, message_id: int, **body) -> dict:
        headers = {"Authorization": f"Bearer {self.token}"}
        version = httpx.get(f"{self.url}/v1/messages/{message_id}", headers=headers).json()["version"]
        response = httpx.post(f"{self.url}/v1/messages/{message_id}/review", json={"version": version, **body},
                              headers=headers, timeout=30)
        response.raise_for_status()
        return response.json()


def _cli(env: dict, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "triage.cli", *args], env=env, capture_output=True, text=True,
                          check=True, timeout=120)
    return done.stdout.strip()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory, tiny_registry):
    root = tmp_path_factory.mktemp("live")
    shutil.copytree(tiny_registry.root, root / "models")
    env = {**os.environ, "TRIAGE_MODELS_DIR": str(root / "models"), "TRIAGE_DATA_DIR": str(root / "data")}
    env.pop("TRIAGE_DATABASE_URL", None)
    password = _cli(env, "users", "add", "clara", "--role", "sachbearbeitung")
    admin_password = _cli(env, "users", "add", "ada", "--role", "admin")
    token = _cli(env, "tokens", "create", "test", "--role", "sachbearbeitung")
    port = free_port()
    log = root / "server.log"
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, "-m", "triage.cli", "serve", "--port", str(port)], env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, timeout=60, proc=process, log=log)
        yield LiveServer(f"http://127.0.0.1:{port}", "clara", password, token, admin_password)
    finally:
        process.terminate()
        process.wait(timeout=20)


def login(page, server: LiveServer, user: str | None = None, password: str | None = None) -> None:
    page.goto(f"{server.url}/")
    page.fill("#name", user or server.user)
    page.fill("#password", password or server.password)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.url}/")


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(locale="de-DE")
    page = context.new_page()
    login(page, live_server)
    yield page
    context.close()
