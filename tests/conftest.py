"""Shared fixtures: the default tree, one analyser per session, and small trained models."""
from __future__ import annotations

from pathlib import Path

import pytest

from training.train import train
from triage.classify.engine import Engine
from triage.classify.features import Analyzer
from triage.config import get_settings
from triage.registry import Registry
from triage.taxonomy import default_taxonomy

DATA = Path(__file__).parent / "data"
TINY = DATA / "tiny.jsonl"


@pytest.fixture(scope="session")
def taxonomy():
    return default_taxonomy()


@pytest.fixture(scope="session")
def analyzer():
    return Analyzer()


@pytest.fixture(scope="session")
def tiny_registry(tmp_path_factory, taxonomy):
    """A registry holding one model trained on the 32 messages of tests/data/tiny.jsonl."""
    registry = Registry(tmp_path_factory.mktemp("registry"))
    train(taxonomy, registry, TINY, version="tiny", folds=2)
    return registry


@pytest.fixture(scope="session")
def tiny_engine(tiny_registry):
    return Engine.from_registry(tiny_registry)


@pytest.fixture
def settings_env(monkeypatch, tmp_path):
    """Point the settings at a fresh models folder for commands run in-process."""
    monkeypatch.setenv("TRIAGE_MODELS_DIR", str(tmp_path / "models"))
    get_settings.cache_clear()
    yield tmp_path / "models"
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def corpus_engine(tmp_path_factory, taxonomy):
    """The default model, trained from the shipped corpus (as `make run` builds it)."""
    registry = Registry(tmp_path_factory.mktemp("corpus-registry"))
    train(taxonomy, registry, version="corpus")
    return Engine.from_registry(registry)
from tests.services import browser, dovecot, postgres_url  # noqa: E402,F401
