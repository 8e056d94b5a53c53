"""Running the service: uvicorn for one process; for several, gunicorn with uvicorn workers and
SO_REUSEPORT, so the kernel spreads connections evenly over the processes (with one shared
socket, long-lived connections tend to pile up on one worker)."""
from __future__ import annotations

from gunicorn.app.base import BaseApplication

from triage.config import Settings


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from .main import create_app

        return create_app()


def prepare(settings: Settings) -> None:
    """What must happen once before worker processes start, so they never race for it: the
    store's schema and the session secret."""
    from triage.store.db import migrate

    from .security import session_secret

    migrate(settings.db_url())
    session_secret(settings.data_dir)


def run(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    """Serve; call `prepare` first."""
    if workers <= 1:
        import uvicorn

        uvicorn.run("api.main:create_app", factory=True, host=host, port=port, log_level="warning")
        return
    _Gunicorn({"bind": f"{host}:{port}", "workers": workers, "worker_class": "uvicorn.workers.UvicornWorker",
               "reuse_port": True, "loglevel": "warning", "timeout": 120, "graceful_timeout": 20}).run()
