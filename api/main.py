"""Assembles the FastAPI app: state, middleware, error handlers, routers. Nothing at import
time touches the database or the model; `create_app` builds everything from settings."""
from __future__ import annotations

import gc
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.middleware.sessions import SessionMiddleware

from triage.config import Settings, get_settings
from triage.errors import (
    ConflictError,
    DataError,
    InputError,
    IntegrityError,
    ModelError,
    NotFoundError,
    RegistryError,
    StoreError,
    TriageError,
    ValidationError,
)
from triage.registry import Registry
from triage.store.db import migrate

from .batcher import Batcher
from .routes import admin, messages, meta, triage, ui
from .security import BodyLimit, SecurityHeaders, session_secret
from .state import AppState, EngineHolder

STATUS = {NotFoundError: 404, ConflictError: 409, ValidationError: 422, DataError: 422, InputError: 422,
          ModelError: 503, IntegrityError: 409, RegistryError: 404, StoreError: 503}
# the database went away or is locked mid-service (OperationalError, InterfaceError): a clear
# 503 and nothing half stored (every request is one transaction), never a 500
DATABASE_DOWN = "Datenbank nicht erreichbar: nichts gespeichert, bitte gleich noch einmal versuchen"


def _status(exc: TriageError) -> int:
    return next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 400)


def _field_errors(exc: RequestValidationError) -> list[str]:
    out = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "Anfrage"
        out.append(f"{where}: {error.get('msg', 'ungültig')}")
    return out


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    db_url = settings.db_url()
    migrate(db_url)
    engines = EngineHolder(Registry(settings.models_dir, settings.registry_key_path), settings.model_check_seconds)
    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        try:  # load the model before the first request; a missing model is reported by /readyz
            engines.get()
        except TriageError as exc:
            engines.last_error = str(exc)
        # the loaded model is long-lived: keep it out of the garbage collector's full passes,
        # which would otherwise walk its vocabularies and stall requests now and then
        gc.collect()
        gc.freeze()
        yield
        batcher.close()

    app = FastAPI(title="KRM-Triage", version="0.1.0", lifespan=lifespan,
                  description="Vorschläge für Kategorien, Dringlichkeit und Zuständigkeit von Kundenreaktionen")
    batcher = Batcher(engines)
    app.state.triage = AppState(settings=settings, db_url=db_url, engines=engines, batcher=batcher)

    @app.exception_handler(TriageError)
    async def triage_error(_request: Request, exc: TriageError) -> JSONResponse:
        return JSONResponse({"detail": exc.message, "code": exc.code}, status_code=_status(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": "Ungültige Anfrage", "errors": _field_errors(exc)}, status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return ui.error_page(request, exc) or JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                                                           headers=exc.headers)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def database_down(request: Request, _exc: OperationalError | InterfaceError) -> JSONResponse:
        return await http_error(request, HTTPException(503, DATABASE_DOWN, headers={"Retry-After": "5"}))

    for router in (triage.router, messages.router, meta.router, admin.router, ui.router):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    app.add_middleware(SessionMiddleware, secret_key=session_secret(settings.data_dir), same_site="strict",
                       session_cookie="krm_session", max_age=12 * 3600)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    return app
