"""Dependencies shared by the routes: the app state, a database session per request, and the
caller (API token or staff session), with typed aliases as in the FastAPI template."""
from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from triage.store.db import session_scope
from triage.store.users import Principal, principal_for_token

from .state import AppState


async def get_state(request: Request) -> AppState:
    # async: a plain function dependency would cost every request a hop through the threadpool
    return request.app.state.triage


StateDep = Annotated[AppState, Depends(get_state)]


def get_session(state: StateDep) -> Iterator[Session]:
    with session_scope(state.db_url) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


TOKEN_CACHE_SECONDS = 30.0
_token_cache: dict[str, tuple[float, Principal | None]] = {}


def _cached_token(db_url: str, token: str) -> Principal | None:
    """Token look-ups are cached briefly in the process: machines call often, and a revoked
    token stops working within TOKEN_CACHE_SECONDS. Only a miss touches the database."""
    now = time.monotonic()
    hit = _token_cache.get(token)
    if hit and now - hit[0] < TOKEN_CACHE_SECONDS:
        return hit[1]
    with session_scope(db_url) as session:
        principal = principal_for_token(session, token)
    if len(_token_cache) > 10_000:
        _token_cache.clear()
    _token_cache[token] = (now, principal)
    return principal


def principal_of(request: Request, db_url: str) -> Principal | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return _cached_token(db_url, header[7:].strip())
    user = request.session.get("user") if "session" in request.scope else None
    return Principal(user["name"], user["role"]) if user else None


async def current_principal(request: Request, state: StateDep) -> Principal:
    principal = principal_of(request, state.db_url)
    if principal is None:
        raise HTTPException(401, "Anmeldung erforderlich: Bearer-Token oder Sitzung",
                            headers={"WWW-Authenticate": "Bearer"})
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]


async def require_admin(user: CurrentUser) -> Principal:
    if user.role != "admin":
        raise HTTPException(403, "Nur für die Rolle admin")
    return user


AdminUser = Annotated[Principal, Depends(require_admin)]


def office_wide(user: Principal, crisis_unit: str) -> None:
    """Figures over every unit (the annual report) are not for the unit-scoped Ombudsstelle role."""
    if unit_scope(user, crisis_unit):
        raise HTTPException(403, "Der Jahresbericht umfasst alle Stellen, nicht nur die Ombudsstelle")


def unit_scope(user: Principal, crisis_unit: str) -> str | None:
    """The ombudsstelle role sees only what is routed to it; others see every unit."""
    return crisis_unit if user.role == "ombudsstelle" else None
