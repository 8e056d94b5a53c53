"""The API suite runs twice: on a real SQLite file and on a real PostgreSQL server."""
from __future__ import annotations

import shutil

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.main import create_app
from triage.config import Settings
from triage.store.db import get_engine, session_scope
from triage.store.tables import Base
from triage.store.users import create_token


def truncate(url: str) -> None:
    """A clean PostgreSQL database for the next test (the server lives for the whole session)."""
    with get_engine(url).begin() as connection:
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def clean_postgres(postgres_url):
    yield postgres_url
    truncate(postgres_url)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'triage.db'}"
        return
    yield request.getfixturevalue("clean_postgres")


@pytest.fixture
def settings(tmp_path, tiny_registry, db_url):
    models = tmp_path / "models"
    shutil.copytree(tiny_registry.root, models)
    return Settings(models_dir=models, data_dir=tmp_path / "data", database_url=db_url, model_check_seconds=0.2)


@pytest.fixture
def app(settings):
    return create_app(settings)


def _token(settings, role: str) -> str:
    with session_scope(settings.db_url()) as session:
        return create_token(session, f"test-{role}", role)


def _client(app, settings, role: str):
    with TestClient(app) as c:
        c.headers["Authorization"] = f"Bearer {_token(settings, role)}"
        yield c


@pytest.fixture
def client(app, settings):
    yield from _client(app, settings, "sachbearbeitung")


@pytest.fixture
def ombuds_client(app, settings):
    yield from _client(app, settings, "ombudsstelle")


@pytest.fixture
def admin_client(app, settings):
    yield from _client(app, settings, "admin")


@pytest.fixture
def anonymous(app):
    with TestClient(app) as c:
        yield c
