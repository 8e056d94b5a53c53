"""Request and response bodies of the REST API."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

MAX_TEXT = 1_000_000


class Channel(StrEnum):
    email = "E-Mail"
    portal = "Online-Portal"
    schriftlich = "schriftlich"
    telefonisch = "telefonisch"
    persoenlich = "persönlich"
    google = "Google-Bewertung"


class TriageRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str | None = Field(None, max_length=MAX_TEXT, description="Text der Nachricht")
    subject: str = Field("", max_length=2000)
    channel: str = Field("", max_length=40)
    email: str | None = Field(None, max_length=MAX_TEXT, description="eine ganze E-Mail (RFC 5322) statt text")


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(..., min_length=1, max_length=MAX_TEXT)
    subject: str = Field("", max_length=2000)
    channel: Channel = Channel.portal
    received_at: datetime | None = None


class LabelsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    concerns: list[str] | None = Field(None, min_length=1, max_length=3)
    art: str | None = None
    urgency: str | None = None
    absender: str | None = None
    routing: str | None = None


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int
    action: str = Field("accept", pattern="^(accept|correct)$")
    labels: LabelsIn | None = None
    status: str | None = Field(None, pattern="^(neu|in_bearbeitung|abgeschlossen)$")
    begruendet: str | None = Field(None, pattern="^(ja|nein|unbekannt)$")
    note: str | None = Field(None, max_length=5000)


class MessageOut(BaseModel):
    id: int
    version: int
    channel: str
    subject: str
    received_at: datetime
    deadline: datetime
    days_left: int
    status: str
    closed_at: datetime | None
    labels: dict
    needs_review: bool
    confidence: float
    reviewed: bool
    begruendet: str | None


class MessageDetail(MessageOut):
    text: str
    prediction: dict | None
    reviews: list[dict]


class MessagePage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[MessageOut]


class StoredMessage(BaseModel):
    id: int
    version: int
    created: bool
    prediction: dict
