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
    # Secret that signs model manifests; created on first use, never committed.
    registry_key_path: Path | None = None
    seed: int = 13
    batch_size: int = 256

    @property
    def registry_key_file(self) -> Path:
        return self.registry_key_path or self.models_dir / ".registry-key"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
