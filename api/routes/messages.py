"""Messages: take in and classify, list the queue, show one, review it, delete it."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from anyio.from_thread import run as run_async
from fastapi import APIRouter, Header, HTTPException, Query, Response

from triage.classify.engine import Message
from triage.store.deletion import delete_message
from triage.store.messages import Filters, get_message, list_messages, review_message, store_message

from ..deps import AdminUser, CurrentUser, SessionDep, StateDep, unit_scope
from ..metrics import CLASSIFY_SECONDS, MESSAGES_STORED, REVIEWS
from ..present import message_detail, message_out, prediction_out
from ..schemas import MessageDetail, MessageIn, MessagePage, ReviewIn, StoredMessage

router = APIRouter(prefix="/v1/messages", tags=["messages"])


@router.post("", response_model=StoredMessage, status_code=201,
             summary="Nachricht aufnehmen (Portal, Brief, Telefonnotiz), speichern und klassifizieren")
def create(body: MessageIn, state: StateDep, session: SessionDep, user: CurrentUser, response: Response,
           idempotency_key: Annotated[str | None, Header(max_length=200)] = None) -> dict:
    if not body.text.strip():
        raise HTTPException(422, "text ist leer")
    with CLASSIFY_SECONDS.time():  # through the batcher, like /v1/triage: concurrent intake is classified together
        result = run_async(state.batcher.classify, Message(body.text, body.subject, body.channel.value)).as_dict()
    message, created = store_message(session, state.taxonomy, text=body.text, subject=body.subject,
                                     channel=body.channel.value, received_at=body.received_at, result=result,
                                     idempotency_key=idempotency_key, actor=user.name)
    if created:
        MESSAGES_STORED.labels(body.channel.value).inc()
    else:
        response.status_code = 200
    return {"id": message.id, "version": message.version, "created": created, "prediction": prediction_out(message)}


@router.get("", response_model=MessagePage, summary="Nachrichten mit Filtern, nach Dringlichkeit und Alter")
def index(session: SessionDep, state: StateDep, user: CurrentUser,
          status: str | None = None, unit: str | None = None, urgency: str | None = None,
          area: str | None = None, needs_review: bool | None = None,
          received_from: datetime | None = None, received_to: datetime | None = None,
          order: Annotated[str, Query(pattern="^(queue|unsicher)$")] = "queue",
          offset: Annotated[int, Query(ge=0)] = 0, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict:
    unit = unit_scope(user, state.taxonomy.crisis_unit) or unit
    filters = Filters(status, unit, urgency, area, needs_review, received_from, received_to)
    items, total = list_messages(session, filters, offset, limit, order)
    return {"total": total, "offset": offset, "limit": limit, "items": [message_out(m) for m in items]}


def _visible(message, user, state: StateDep):
    scope = unit_scope(user, state.taxonomy.crisis_unit)
    if scope and message.unit != scope:
        raise HTTPException(403, "Diese Nachricht ist nicht an die Ombudsstelle geleitet")
    return message


@router.get("/{message_id}", response_model=MessageDetail)
def show(message_id: int, session: SessionDep, state: StateDep, user: CurrentUser) -> dict:
    return message_detail(_visible(get_message(session, message_id), user, state))


@router.post("/{message_id}/review", response_model=MessageDetail,
             summary="Vorschlag annehmen oder korrigieren; version aus der letzten Antwort mitsenden")
def review(message_id: int, body: ReviewIn, session: SessionDep, state: StateDep, user: CurrentUser) -> dict:
    _visible(get_message(session, message_id), user, state)
    labels = body.labels.model_dump(exclude_none=True) if body.labels else None
    message = review_message(session, state.taxonomy, message_id, version=body.version, reviewer=user.name,
                             action=body.action, labels=labels, status=body.status, begruendet=body.begruendet,
                             note=body.note)
    REVIEWS.labels(body.action).inc()
    session.commit()
    return message_detail(message)


@router.delete("/{message_id}", status_code=204,
               summary="Nachricht mit Vorhersagen und Prüfungen löschen (Datenschutz; nur admin)")
def delete(message_id: int, session: SessionDep, user: AdminUser,
           reason: Annotated[str, Query(min_length=3, max_length=500, description="Grund der Löschung")]) -> Response:
    delete_message(session, message_id, actor=user.name, reason=reason)
    session.commit()
    return Response(status_code=204)
