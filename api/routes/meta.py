"""Taxonomy, models, the annual report's figures, health, readiness and metrics."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response
from fastapi import Path as PathParam
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from triage.reporting.load import figures_for

from ..deps import CurrentUser, SessionDep, StateDep, office_wide

router = APIRouter(tags=["meta"])


@router.get("/v1/taxonomy", summary="Der Kategorienbaum")
def taxonomy(state: StateDep, _user: CurrentUser) -> dict:
    tax = state.taxonomy
    return {
        "version": tax.version,
        "areas": [{"code": area, "name": tax.area_names[area], "unit": tax.area_units[area],
                   "topics": [{"code": t.code, "name": t.name, "definition": t.definition}
                              for t in tax.topics if t.area == area]} for area in tax.areas],
        "units": tax.units,
        "fields": {name: list(tax.values(name)) for name in ("art", "urgency", "absender", "routing")},
    }


@router.get("/v1/models", summary="Modellversionen im Register")
def models(state: StateDep, _user: CurrentUser) -> dict:
    registry = state.engines.registry
    serving = state.engines.get().version if state.engines.loaded else None
    return {"active": registry.active(), "serving": serving,
            "versions": [{"version": v.version, "created": v.manifest.get("created"), "status": v.status,
                          "metrics": v.manifest.get("metrics", {})} for v in registry.versions()]}


@router.get("/v1/reports/{year}", summary="Zahlen des Jahresberichts (wie triage report)")
def annual_report(year: Annotated[int, PathParam(ge=2000, le=2100)], state: StateDep, session: SessionDep,
                  user: CurrentUser) -> dict:
    office_wide(user, state.taxonomy.crisis_unit)
    return figures_for(session, year, state.taxonomy, state.settings.reports_dir)


@router.get("/healthz", include_in_schema=False)
def healthz() -> dict:
    return {"status": "ok"}


@router.get("/readyz", include_in_schema=False)
def readyz(state: StateDep, session: SessionDep, response: Response) -> dict:
    problems = []
    try:
        session.execute(text("select 1"))
    except Exception as exc:  # any database failure means: not ready
        problems.append(f"Datenbank: {type(exc).__name__}")
    try:
        state.engines.get()
    except Exception as exc:  # a missing or refused model means: not ready
        problems.append(f"Modell: {exc}")
    if problems:
        response.status_code = 503
    return {"status": "bereit" if not problems else "nicht bereit", "problems": problems}


@router.get("/metrics", include_in_schema=False)
def metrics(_user: CurrentUser) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
