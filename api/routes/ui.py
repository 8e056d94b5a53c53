"""The staff web UI (German, server-rendered): login, review queue, one message with its
suggestion, accept with one key, correct through the tree picker, the Ombudsstelle's view, the
annual report, and for admins the deletion of a message on request."""
from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from triage.reporting.load import figures_for
from triage.reporting.render import TABLES, charts, csv_text, num
from triage.reporting.render import TEMPLATES as REPORT_TEMPLATES
from triage.store.deletion import delete_message
from triage.store.messages import BEGRUENDET, STATUSES, Filters, get_message, list_messages, review_message
from triage.store.users import Principal, authenticate

from ..deps import SessionDep, StateDep, office_wide, principal_of, unit_scope
from ..metrics import REVIEWS
from ..present import highlighted, message_out, prediction_out
from ..security import check_csrf, csrf_token

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=[Path(__file__).parents[1] / "templates", REPORT_TEMPLATES])
PAGE = 50


def _page(request: Request, name: str, status_code: int = 200, **context) -> HTMLResponse:
    user = request.session.get("user")
    return templates.TemplateResponse(request, name, {"user": user, "csrf": csrf_token(request), **context},
                                      status_code=status_code)


def error_page(request: Request, exc: HTTPException) -> Response | None:
    """Staff pages answer with a page (or the login); API paths keep JSON."""
    path = request.url.path
    if path.startswith(("/v1", "/healthz", "/readyz", "/metrics", "/static")):
        return None
    if exc.status_code == 401:
        return RedirectResponse("/login?" + urlencode({"weiter": path}), status_code=303)
    return _page(request, "error.html", status_code=exc.status_code, detail=exc.detail)


def _user(request: Request, state) -> Principal:
    principal = principal_of(request, state.db_url)
    if principal is None:
        raise HTTPException(401, "Bitte anmelden")
    return principal


@router.get("/login")
def login_form(request: Request, weiter: str = "/") -> HTMLResponse:
    return _page(request, "login.html", weiter=weiter if weiter.startswith("/") else "/")


@router.post("/login")
def login(request: Request, session: SessionDep, name: Annotated[str, Form()], password: Annotated[str, Form()],
          csrf: Annotated[str, Form()], weiter: Annotated[str, Form()] = "/") -> Response:
    check_csrf(request, csrf)
    principal = authenticate(session, name, password)
    if principal is None:
        return _page(request, "login.html", status_code=401, weiter=weiter, error="Name oder Passwort falsch")
    request.session.clear()
    request.session["user"] = {"name": principal.name, "role": principal.role}
    target = "/ombudsstelle" if principal.role == "ombudsstelle" and weiter == "/" else weiter
    return RedirectResponse(target if target.startswith("/") and not target.startswith("//") else "/", 303)


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form()]) -> Response:
    check_csrf(request, csrf)
    request.session.clear()
    return RedirectResponse("/login", 303)


def _queue(request: Request, session, state, unit: str | None, urgency: str | None, status: str | None,
           pruefen: bool, order: str, seite: int, title: str, deleted: int | None = None) -> HTMLResponse:
    user = _user(request, state)
    unit = unit_scope(user, state.taxonomy.crisis_unit) or unit
    filters = Filters(status=status or None, unit=unit or None, urgency=urgency or None,
                      needs_review=True if pruefen else None, open_only=not status)
    items, total = list_messages(session, filters, (seite - 1) * PAGE, PAGE, order)
    rows = [message_out(m) for m in items]
    topic_names = {t.code: t.name for t in state.taxonomy.topics}
    return _page(request, "queue.html", title=title, rows=rows, total=total, seite=seite, pages=-(-total // PAGE),
                 tax=state.taxonomy, topic_names=topic_names, statuses=STATUSES, deleted=deleted,
                 filters={"unit": unit or "", "urgency": urgency or "", "status": status or "",
                          "pruefen": pruefen, "order": order})




@router.get("/")
def queue(request: Request, session: SessionDep, state: StateDep, unit: str | None = None,
          urgency: str | None = None, status: str | None = None, pruefen: bool = False,
          order: Annotated[str, Query(pattern="^(queue|unsicher)$")] = "queue",
          seite: Annotated[int, Query(ge=1)] = 1, geloescht: int | None = None) -> HTMLResponse:
    return _queue(request, session, state, unit, urgency, status, pruefen, order, seite, "Eingang", geloescht)


@router.get("/ombudsstelle")
def ombudsstelle(request: Request, session: SessionDep, state: StateDep, urgency: str | None = None,
                 status: str | None = None, pruefen: bool = False,
                 order: Annotated[str, Query(pattern="^(queue|unsicher)$")] = "queue",
                 seite: Annotated[int, Query(ge=1)] = 1) -> HTMLResponse:
    return _queue(request, session, state, state.taxonomy.crisis_unit, urgency, status, pruefen, order, seite,
                  "Ombudsstelle")


@router.get("/nachrichten/{message_id}")
def show(request: Request, message_id: int, session: SessionDep, state: StateDep) -> HTMLResponse:
    user = _user(request, state)
    message = get_message(session, message_id)
    scope = unit_scope(user, state.taxonomy.crisis_unit)
    if scope and message.unit != scope:
        raise HTTPException(403, "Diese Nachricht ist nicht an die Ombudsstelle geleitet")
    prediction = prediction_out(message)
    return _page(request, "message.html", m=message_out(message), text=message.text,
                 parts=highlighted(message.text, prediction["evidence"] if prediction else None),
                 prediction=prediction, tax=state.taxonomy, statuses=STATUSES, begruendet=BEGRUENDET,
                 reviews=message.reviews)


@router.post("/nachrichten/{message_id}/pruefen")
async def review(request: Request, message_id: int, session: SessionDep, state: StateDep) -> Response:
    user = _user(request, state)
    form = await request.form()
    check_csrf(request, form.get("csrf"))
    action = form.get("action", "accept")
    labels = None
    if action == "correct":
        labels = {"concerns": form.getlist("concerns") or None, "art": form.get("art") or None,
                  "urgency": form.get("urgency") or None, "absender": form.get("absender") or None,
                  "routing": form.get("routing") or None}
    try:
        version = int(form.get("version", ""))
    except ValueError as exc:
        raise HTTPException(422, "Version fehlt") from exc
    message = get_message(session, message_id)
    scope = unit_scope(user, state.taxonomy.crisis_unit)
    if scope and message.unit != scope:
        raise HTTPException(403, "Diese Nachricht ist nicht an die Ombudsstelle geleitet")
    review_message(session, state.taxonomy, message_id, version=version, reviewer=user.name, action=action,
                   labels=labels, status=form.get("status") or None, begruendet=form.get("begruendet") or None,
                   note=form.get("note") or None)
    session.commit()
    REVIEWS.labels(action).inc()
    back = form.get("zurueck", "/")
    return RedirectResponse(back if back.startswith("/") and not back.startswith("//") else "/", 303)


@router.post("/nachrichten/{message_id}/loeschen")
async def delete(request: Request, message_id: int, session: SessionDep, state: StateDep) -> Response:
    """Admins delete a message for data protection (an erasure request), with a reason."""
    user = _user(request, state)
    form = await request.form()
    check_csrf(request, form.get("csrf"))
    if user.role != "admin":
        raise HTTPException(403, "Nur Administratoren können Nachrichten löschen")
    if form.get("confirm") != "ja":
        raise HTTPException(422, "Bitte das Löschen ausdrücklich bestätigen")
    delete_message(session, message_id, actor=user.name, reason=str(form.get("reason") or ""))
    session.commit()
    return RedirectResponse(f"/?geloescht={message_id}", 303)


def _annual(request: Request, session, state, year: int) -> dict:
    office_wide(_user(request, state), state.taxonomy.crisis_unit)
    return figures_for(session, year, state.taxonomy, state.settings.reports_dir)


@router.get("/bericht")
def annual_report(request: Request, session: SessionDep, state: StateDep,
                  jahr: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> HTMLResponse:
    """The figures of a year (the last complete one unless `jahr` is given), with charts."""
    year = jahr or datetime.now(UTC).year - 1
    figures = _annual(request, session, state, year)
    sources = {name: "data:image/png;base64," + base64.b64encode(png).decode() for name, png in charts(figures).items()}
    return _page(request, "report.html", f=figures, charts=sources, tables=TABLES, num=num)


@router.get("/bericht/{jahr}.csv")
def annual_report_csv(request: Request, jahr: int, session: SessionDep, state: StateDep) -> Response:
    figures = _annual(request, session, state, jahr)
    return Response(csv_text(figures), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="jahresbericht-{jahr}.csv"'})
