"""The Alembic migrations build exactly the schema the models declare, on SQLite and PostgreSQL."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

import triage.store.mailbox_state  # noqa: F401  (its tables share Base)
from triage.store.db import get_engine, migrate
from triage.store.tables import Base


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'schema.db'}"
    url = request.getfixturevalue("postgres_url")  # the session's server: an empty database of its own
    with get_engine(url).connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("DROP DATABASE IF EXISTS schema_check WITH (FORCE)"))
        connection.execute(text("CREATE DATABASE schema_check"))
    return url.rsplit("/", 1)[0] + "/schema_check"


def test_migrations_match_the_models(fresh_url):
    migrate(fresh_url)
    with get_engine(fresh_url).connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == [], diff
