"""POST /v1/triage: classify a text or a raw e-mail without storing anything."""
from __future__ import annotations

import json

from fastapi import APIRouter, HTTPException, Response

from triage.classify.engine import Message
from triage.errors import InputError
from triage.mail.parse import parse_bytes

from ..deps import CurrentUser, StateDep
from ..metrics import CLASSIFY_SECONDS
from ..schemas import TriageRequest

router = APIRouter(prefix="/v1", tags=["triage"])


def message_text(body: TriageRequest) -> tuple[str, str]:
    if body.email:
        mail = parse_bytes(body.email.encode("utf-8", errors="surrogateescape"))
        return mail.new_text or mail.text, body.subject or mail.subject
    if body.text is None:
        raise HTTPException(422, "text oder email angeben")
    return body.text, body.subject


@router.post("/triage", summary="Nachricht klassifizieren, ohne sie zu speichern")
async def triage(body: TriageRequest, state: StateDep, _user: CurrentUser) -> Response:
    text, subject = message_text(body)
    if not text.strip():
        raise InputError("I001")
    with CLASSIFY_SECONDS.time():
        result = await state.batcher.classify(Message(text, subject, body.channel))
    # serialised directly: the result is plain JSON data already (no encoder walk needed)
    return Response(json.dumps(result.as_dict(), ensure_ascii=False), media_type="application/json")
