"""The figures of the annual report, from the stored messages of two years.

Pure functions over a pandas table with one row per message (`COLUMNS`): what the office writes
in its yearly report. Counts use the current labels, so a reviewer's correction counts, not the
model's first suggestion. A message has one to three concerns (Anliegen): counts per area and
topic are counts of concerns, counts per channel and kind are counts of messages (Reaktionen).
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from ..store.messages import SETTLE_DAYS
from ..taxonomy import Taxonomy

__all__ = ["COLUMNS", "annual_figures", "year_counts"]

COLUMNS = ("received_at", "channel", "concerns", "art", "urgency", "absender", "unit", "status", "closed_at",
           "begruendet", "reviewed")
COMPLAINT = "beschwerde"


def _change(now: float, before: float | None) -> float | None:
    """Change against the year before in per cent; None without a year before or from zero."""
    if not before:
        return None
    return round(100.0 * (now - before) / before, 1)


def _share(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _year(frame: pd.DataFrame, year: int) -> pd.DataFrame:
    received = pd.to_datetime(frame["received_at"], utc=True)
    return frame[received.dt.year == year]


def _concern_rows(frame: pd.DataFrame, taxonomy: Taxonomy) -> pd.DataFrame:
    rows = frame[["concerns", "art"]].explode("concerns").dropna(subset=["concerns"])
    return rows.assign(area=rows["concerns"].map(taxonomy.area_of))


def _counts(series: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in series.value_counts().items()}


def year_counts(frame: pd.DataFrame, taxonomy: Taxonomy) -> dict:
    """The comparable counts of one year's messages (also what a later year compares against)."""
    concerns = _concern_rows(frame, taxonomy)
    complaints = concerns[concerns["art"] == COMPLAINT]
    received = pd.to_datetime(frame["received_at"], utc=True)
    closed = pd.to_datetime(frame["closed_at"], utc=True)
    settled = frame["status"].eq("abgeschlossen") & closed.notna()
    in_time = settled & (closed - received <= timedelta(days=SETTLE_DAYS))
    return {
        "reactions": int(len(frame)),
        "concerns": int(len(concerns)),
        "by_art": _counts(frame["art"]),
        "by_channel": _counts(frame["channel"]),
        "by_area": _counts(concerns["area"]),
        "by_topic": _counts(concerns["concerns"]),
        "complaints_by_area": _counts(complaints["area"]),
        "by_month": {str(m): int((received.dt.month == m).sum()) for m in range(1, 13)},
        "by_unit": _counts(frame["unit"]),
        "existence_threatening": int((frame["urgency"] == taxonomy.crisis_urgency).sum()),
        "third_party": int((frame["absender"] == taxonomy.third_party).sum()),
        "begruendet": _counts(frame.loc[frame["art"] == COMPLAINT, "begruendet"].fillna("offen")),
        "settled": int(settled.sum()),
        "settled_in_time": int(in_time.sum()),
        "open": int((~settled).sum()),
        "reviewed": int(frame["reviewed"].sum()),
    }


def _table(now: dict[str, int], before: dict[str, int] | None, names: dict[str, str], order: list[str]) -> list[dict]:
    """Rows (code, name, count, share, count the year before, change) in the given order, then
    any value not in it, most frequent first."""
    total = sum(now.values())
    codes = [c for c in order if c in now or (before and c in before)]
    codes += sorted((set(now) | set(before or {})) - set(codes), key=lambda c: -now.get(c, 0))
    return [{"code": c, "name": names.get(c, c), "count": now.get(c, 0), "share": _share(now.get(c, 0), total),
             "previous": None if before is None else before.get(c, 0),
             "change": None if before is None else _change(now.get(c, 0), before.get(c, 0))} for c in codes]


def annual_figures(frame: pd.DataFrame, year: int, taxonomy: Taxonomy, previous: dict | None = None,
                   deleted: int = 0) -> dict:
    """Everything the yearly report shows for `year`. `frame` holds the stored messages (at least
    of `year` and the year before); `previous` is the saved counts of the year before, used when
    its messages are no longer stored (retention period). `deleted`: messages of `year` deleted
    on request, which no count can include."""
    now = year_counts(_year(frame, year), taxonomy)
    before_rows = _year(frame, year - 1)
    before = year_counts(before_rows, taxonomy) if len(before_rows) else previous
    b = before or {}
    topic_names = {t.code: f"{t.name} ({t.area})" for t in taxonomy.topics}  # "Bescheid" is in two areas
    art_names = {a: a.capitalize() for a in taxonomy.values("art")}
    complaints = now["by_art"].get(COMPLAINT, 0)
    return {
        "year": year,
        "made": datetime.now(UTC).isoformat(timespec="seconds"),
        "counts": now,
        "previous_counts": before,
        "previous_year": None if before is None else year - 1,
        "reactions": {"count": now["reactions"], "previous": b.get("reactions"),
                      "change": _change(now["reactions"], b.get("reactions"))},
        "concerns": {"count": now["concerns"], "previous": b.get("concerns"),
                     "change": _change(now["concerns"], b.get("concerns")),
                     "per_reaction": round(now["concerns"] / now["reactions"], 2) if now["reactions"] else None},
        "by_art": _table(now["by_art"], b.get("by_art") if before else None, art_names, list(art_names)),
        "by_area": _table(now["by_area"], b.get("by_area") if before else None, taxonomy.area_names,
                          taxonomy.areas),
        "complaints_by_area": _table(now["complaints_by_area"], b.get("complaints_by_area") if before else None,
                                     taxonomy.area_names, taxonomy.areas),
        "by_topic": _table(now["by_topic"], b.get("by_topic") if before else None, topic_names, [])[:15],
        "by_channel": _table(now["by_channel"], b.get("by_channel") if before else None, {}, []),
        "by_unit": _table(now["by_unit"], b.get("by_unit") if before else None, taxonomy.units, list(taxonomy.units)),
        "begruendet": _table(now["begruendet"], None, {"ja": "begründet", "nein": "unbegründet",
                                                       "unbekannt": "nicht feststellbar", "offen": "noch offen"},
                             ["ja", "nein", "unbekannt", "offen"]),
        "complaints": complaints,
        "settled": {"count": now["settled"], "in_time": now["settled_in_time"],
                    "share_in_time": _share(now["settled_in_time"], now["settled"]), "open": now["open"],
                    "previous_share_in_time": _share(b.get("settled_in_time", 0), b.get("settled", 0))},
        "existence_threatening": now["existence_threatening"],
        "third_party": now["third_party"],
        "reviewed_share": _share(now["reviewed"], now["reactions"]),
        "deleted": deleted,
    }
