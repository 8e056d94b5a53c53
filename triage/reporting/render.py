"""Writing the annual report: an HTML page with PNG charts (matplotlib), the tables as CSV for the
office's own layout, and the year's counts as JSON, which next year's report compares against
when this year's messages are no longer stored."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from jinja2 import Environment, FileSystemLoader, select_autoescape  # noqa: E402

from .load import stem  # noqa: E402

__all__ = ["write_annual_report", "charts", "csv_text", "TEMPLATES", "num"]

TEMPLATES = Path(__file__).parent / "templates"
TABLES = {"by_art": "Art", "by_area": "Bereich (Anliegen)", "complaints_by_area": "Beschwerden nach Bereich",
          "by_topic": "Thema (Anliegen)", "by_channel": "Eingangsweg", "by_unit": "Zuständige Stelle",
          "begruendet": "Beschwerden begründet"}
MONTHS = ("Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dez")


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return buffer.getvalue()


def _bars(rows: list[dict], year: int, previous_year: int | None, title: str) -> bytes:
    labels = [r["name"] if len(r["name"]) <= 22 else r["name"][:21] + "…" for r in rows]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.2))
    y = range(len(rows))
    if previous_year is not None:
        ax.barh([i + 0.2 for i in y], [r["previous"] or 0 for r in rows], height=0.4, label=str(previous_year),
                color="#b8c4d6")
    ax.barh([i - 0.2 for i in y] if previous_year is not None else list(y), [r["count"] for r in rows],
            height=0.4, label=str(year), color="#1f4e8c")
    ax.set_yticks(list(y), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_title(title, fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    return _png(fig)


def _months(figures: dict) -> bytes:
    previous = figures["previous_counts"]
    fig, ax = plt.subplots(figsize=(8, 3))
    now = figures["counts"]["by_month"]
    ax.plot(MONTHS, [now[str(m)] for m in range(1, 13)], marker="o", label=str(figures["year"]), color="#1f4e8c")
    if previous and "by_month" in previous:
        ax.plot(MONTHS, [previous["by_month"].get(str(m), 0) for m in range(1, 13)], marker=".", linestyle="--",
                label=str(figures["year"] - 1), color="#8a9bb5")
    ax.set_title("Reaktionen je Monat", fontsize=10)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    return _png(fig)


def charts(figures: dict) -> dict[str, bytes]:
    """The report's charts as PNG bytes: reactions per month, concerns per area, reactions per channel."""
    year, before = figures["year"], figures["previous_year"]
    return {"monate": _months(figures),
            "bereiche": _bars(figures["by_area"], year, before, "Anliegen nach Bereich"),
            "eingangswege": _bars(figures["by_channel"], year, before, "Reaktionen nach Eingangsweg")}


def csv_text(figures: dict) -> str:
    """Every table of the report in one CSV (semicolons, German numbers) for the office's own layout."""
    buffer = io.StringIO()
    out = csv.writer(buffer, delimiter=";", lineterminator="\n")
    before = figures["previous_year"]
    out.writerow(["Tabelle", "Code", "Bezeichnung", "Anzahl", "Anteil %", f"Vorjahr {before or ''}".strip(),
                  "Veränderung %"])
    for key, title in TABLES.items():
        for r in figures[key]:
            out.writerow([title, r["code"], r["name"], r["count"], num(r["share"]), num(r["previous"]),
                          num(r["change"])])
    return buffer.getvalue()


def _env() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True))


def write_annual_report(figures: dict, folder: str | Path) -> Path:
    """Write HTML, charts, CSV and JSON of `figures` into `folder`; the path of the HTML page."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    name_of = stem(figures["year"])
    sources = {}
    for name, png in charts(figures).items():
        sources[name] = f"{name_of}-{name}.png"
        (folder / sources[name]).write_bytes(png)
    (folder / f"{name_of}.csv").write_text(csv_text(figures), encoding="utf-8")
    (folder / f"{name_of}.json").write_text(json.dumps(figures, ensure_ascii=False, indent=1), encoding="utf-8")
    html = _env().get_template("annual.html").render(f=figures, charts=sources, tables=TABLES, num=num)
    path = folder / f"{name_of}.html"
    path.write_text(html, encoding="utf-8")
    return path


def num(value) -> str:
    """German number format for the office's documents: 1.243 and 54,6."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return f"{value:,}".replace(",", ".")
