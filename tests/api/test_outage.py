"""The database goes away while the service runs: clear 503 answers, nothing half stored,
and the service carries on by itself when the database is back."""
from __future__ import annotations

import shutil

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from api.main import create_app
from triage.config import Settings
from triage.store.db import get_engine, session_scope
from triage.store.users import create_token

MESSAGE = {"text": "Mein Geld ist seit zwei Wochen nicht da, bitte prüfen Sie das.", "channel": "E-Mail"}


def _admin(postgres_url: str, statement: str) -> None:
    with get_engine(postgres_url).connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(statement))


@pytest.fixture
def outage_db(postgres_url):
    """A database of its own on the test server, so that it can be taken away."""
    _admin(postgres_url, "DROP DATABASE IF EXISTS outage WITH (FORCE)")
    _admin(postgres_url, "CREATE DATABASE outage")
    yield make_url(postgres_url).set(database="outage").render_as_string(hide_password=False)
    _admin(postgres_url, "DROP DATABASE IF EXISTS outage WITH (FORCE)")


def test_database_outage_answers_503_and_recovers(outage_db, postgres_url, tmp_path, tiny_registry):
    shutil.copytree(tiny_registry.root, tmp_path / "models")
    settings = Settings(models_dir=tmp_path / "models", data_dir=tmp_path / "data", database_url=outage_db)
    app = create_app(settings)  # migrates the new database
    with session_scope(outage_db) as session:
        token = create_token(session, "test-outage", "sachbearbeitung")
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        assert client.post("/v1/messages", json=MESSAGE).status_code == 201

        get_engine(outage_db).dispose()
        _admin(postgres_url, "ALTER DATABASE outage ALLOW_CONNECTIONS false")
        _admin(postgres_url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'outage'")
        for method, path, body in (("post", "/v1/messages", MESSAGE), ("get", "/v1/messages", None),
                                   ("get", "/readyz", None)):
            response = client.request(method, path, json=body)
            assert response.status_code == 503, (path, response.text)
            if path != "/readyz":
                assert "Datenbank nicht erreichbar" in response.json()["detail"]
                assert response.headers["Retry-After"] == "5"

        _admin(postgres_url, "ALTER DATABASE outage ALLOW_CONNECTIONS true")
        listed = client.get("/v1/messages")
        assert listed.status_code == 200, listed.text
        assert listed.json()["total"] == 1  # the message before the outage, none half stored during it
        assert client.post("/v1/messages", json=MESSAGE).status_code == 201
