"""One settings object for the whole project, read from TRIAGE_* environment variables.

Built lazily by `get_settings()` (cached), never at import time, so tests and commands can
set the environment first.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings"]

PACKAGE_DATA = Path(__file__).parent / "data"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRIAGE_", extra="ignore")

    taxonomy_path: Path = PACKAGE_DATA / "taxonomy.toml"
    rules_dir: Path = PACKAGE_DATA / "rules"
    models_dir: Path = Path("models")
    data_dir: Path = Path("data")
    # Empty: an embedded SQLite file in data_dir. Else a SQLAlchemy URL, e.g. postgresql+psycopg://...
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = 5_000_000
    # Model reloads: how often (seconds) the service looks whether another version was activated.
    model_check_seconds: float = 2.0
    # Secret that signs model manifests; created on first use, never committed.
    registry_key_path: Path | None = None
    seed: int = 13
    batch_size: int = 256

    @property
    def reports_dir(self) -> Path:
        """Where retraining reports and annual reports are written (and read back)."""
        return Path(self.data_dir) / "berichte"

    @property
    def registry_key_file(self) -> Path:
        return self.registry_key_path or self.models_dir / ".registry-key"

    def db_url(self) -> str:
        from .store.db import database_url

        return database_url(self.data_dir, self.database_url)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
