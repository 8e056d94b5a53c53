"""What every `triage` command shares: the error console, exit codes, output format, the
registry and store of the configured settings, and the `--data-dir` / `--database-url` options."""
from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from .config import get_settings
from .errors import TriageError

__all__ = ["err", "EXIT_ERROR", "EXIT_PARTIAL", "Format", "fail", "registry", "load_engine", "settings_for",
           "store_session", "DataDir", "DatabaseUrl"]

err = Console(stderr=True)

EXIT_ERROR = 1
EXIT_PARTIAL = 3  # a batch finished, but some input lines were bad (they are in the output)

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Datenordner (Standard: TRIAGE_DATA_DIR oder ./data)")]
DatabaseUrl = Annotated[str | None, typer.Option("--database-url", help="SQLAlchemy-URL (Standard: SQLite)")]


class Format(StrEnum):
    text = "text"
    json = "json"


def fail(exc: TriageError) -> typer.Exit:
    """A library error as one line on stderr and a non-zero exit."""
    typer.echo(f"Fehler: {exc}", err=True)
    return typer.Exit(EXIT_ERROR)


def registry():
    from .registry import Registry

    settings = get_settings()
    return Registry(settings.models_dir, settings.registry_key_path)


def load_engine(version: str | None):
    """The engine of a registry version (the active one by default), for one command's lifetime."""
    import gc

    from .classify.engine import Engine

    engine = Engine.from_registry(registry(), version)
    gc.collect()
    gc.freeze()  # the model lives as long as the command: keep it out of full collections
    return engine


def settings_for(data_dir: Path | None, database_url: str | None):
    """The configured settings, with the store options of one command applied."""
    update = {k: v for k, v in (("data_dir", data_dir), ("database_url", database_url)) if v is not None}
    return get_settings().model_copy(update=update)


def store_session(settings):
    """A session on the (migrated) store of `settings`."""
    from .store.db import migrate, session_scope

    url = settings.db_url()
    migrate(url)
    return session_scope(url)
