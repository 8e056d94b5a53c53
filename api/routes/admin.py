"""Admin: users and model versions (the role admin only)."""
from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from triage.store.users import create_user

from ..deps import AdminUser, SessionDep, StateDep

router = APIRouter(prefix="/v1", tags=["admin"])


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., min_length=1, max_length=100, pattern=r"^[\w.@-]+$")
    role: str = "sachbearbeitung"


@router.post("/users", status_code=201, summary="Benutzer anlegen; Antwort enthält das einmalige Passwort")
def add_user(body: UserIn, session: SessionDep, _admin: AdminUser) -> dict:
    return {"name": body.name, "role": body.role, "password": create_user(session, body.name, body.role)}


@router.post("/models/{version}/activate", summary="Modellversion prüfen und in Dienst nehmen")
def activate(version: str, state: StateDep, admin: AdminUser) -> dict:
    state.engines.registry.activate(version, reason=f"api: {admin.name}")
    return {"active": version}


@router.post("/models/rollback", summary="Zur vorher aktiven Modellversion zurück")
def rollback(state: StateDep, _admin: AdminUser) -> dict:
    return {"active": state.engines.registry.rollback()}
