"""Reading what the annual report needs from the store (the I/O edge of `annual.py`)."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..store.tables import AuditEntry, Message
from ..taxonomy import Taxonomy
from .annual import COLUMNS, annual_figures

__all__ = ["messages_frame", "deleted_in", "saved_counts", "figures_for", "stem"]


def stem(year: int) -> str:
    """The file name stem of a year's report files (written by `render`, read back here)."""
    return f"jahresbericht-{year}"


def _start(year: int) -> datetime:
    return datetime(year, 1, 1, tzinfo=UTC)


def messages_frame(session: Session, first_year: int, last_year: int) -> pd.DataFrame:
    """One row per stored message received from `first_year` to `last_year` (current labels)."""
    columns = [getattr(Message, c) for c in COLUMNS]
    rows = session.execute(select(*columns).where(Message.received_at >= _start(first_year),
                                                  Message.received_at < _start(last_year + 1))).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=list(COLUMNS))


def deleted_in(session: Session, year: int) -> int:
    """Messages received in `year` and deleted on request or after the retention period (the audit
    log keeps the date of receipt of each deletion, nothing else)."""
    received = AuditEntry.detail["received"].as_string()
    return int(session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "nachricht.geloescht", received >= f"{year}-01-01", received < f"{year + 1}-01-01")) or 0)


def saved_counts(folder: str | Path, year: int) -> dict | None:
    """The counts of `year` as saved by its report, if there is one."""
    path = Path(folder) / f"{stem(year)}.json"
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))["counts"]


def figures_for(session: Session, year: int, taxonomy: Taxonomy, reports: str | Path) -> dict:
    """The annual figures of `year` from the store; the year before from the store too, or from
    the JSON its own report left in `reports` once its messages are purged."""
    return annual_figures(messages_frame(session, year - 1, year), year, taxonomy,
                          previous=saved_counts(reports, year - 1), deleted=deleted_in(session, year))
