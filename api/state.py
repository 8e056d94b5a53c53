"""What the running service holds: settings, database URL, category tree, and the engine,
which is swapped for a newly activated model version without restart or dropped requests."""
from __future__ import annotations

import gc
import threading
import time
from dataclasses import dataclass, field

from triage.classify.engine import Engine
from triage.config import Settings
from triage.errors import TriageError
from triage.registry import Registry
from triage.taxonomy import Taxonomy, default_taxonomy


class EngineHolder:
    """Serves the active model; looks for a new active version at most every few seconds and
    loads it in a background thread, then swaps the reference (requests never wait for it)."""

    def __init__(self, registry: Registry, check_seconds: float = 2.0) -> None:
        self.registry = registry
        self.check_seconds = check_seconds
        self._engine: Engine | None = None
        self._lock = threading.Lock()
        self._loading = False
        self._checked = 0.0
        self.last_error: str | None = None

    def get(self) -> Engine:
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    self._engine = Engine.from_registry(self.registry).warm_up()
                    self._checked = time.monotonic()
        elif time.monotonic() - self._checked > self.check_seconds:
            self._checked = time.monotonic()
            active = self.registry.active()
            if active and active != self._engine.version and not self._loading:
                self._loading = True
                threading.Thread(target=self._reload, args=(active,), daemon=True).start()
        return self._engine

    def _reload(self, version: str) -> None:
        try:
            engine = Engine.from_registry(self.registry, version).warm_up()
            self._engine = engine  # one reference assignment: atomic for readers
            gc.collect()
            gc.freeze()  # as at start-up: the new model stays out of full collections
            self.last_error = None
        except TriageError as exc:
            self.last_error = str(exc)
        finally:
            self._loading = False

    @property
    def loaded(self) -> bool:
        return self._engine is not None


@dataclass
class AppState:
    settings: Settings
    db_url: str
    engines: EngineHolder
    batcher: object = None  # api.batcher.Batcher, set by create_app
    taxonomy: Taxonomy = field(default_factory=default_taxonomy)
