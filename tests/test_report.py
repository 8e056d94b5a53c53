"""The annual report: counts per category and channel, change against the year before, share
settled within 14 days; from the store, with a year whose messages are gone compared from its
saved figures."""
import json
from datetime import UTC, datetime, timedelta

import pandas as pd
from typer.testing import CliRunner

from triage.cli import app
from triage.reporting.annual import COLUMNS, annual_figures

runner = CliRunner()


def _row(received: datetime, concerns, art="beschwerde", channel="E-Mail", urgency="normal", absender="betroffen",
         unit="leistungsbereich", closed_after: int | None = None, begruendet=None, reviewed=True) -> dict:
    closed = None if closed_after is None else received + timedelta(days=closed_after)
    return {"received_at": received, "channel": channel, "concerns": concerns, "art": art, "urgency": urgency,
            "absender": absender, "unit": unit, "status": "abgeschlossen" if closed else "neu", "closed_at": closed,
            "begruendet": begruendet, "reviewed": reviewed}


def _frame() -> pd.DataFrame:
    d = lambda y, m, day=3: datetime(y, m, day, 9, tzinfo=UTC)  # noqa: E731
    rows = [
        # 2024: three reactions, four concerns
        _row(d(2024, 2), ["leistung.auszahlung"], closed_after=3),
        _row(d(2024, 5), ["kommunal.unterkunft", "leistung.bescheid"], channel="Online-Portal", closed_after=30),
        _row(d(2024, 11), ["vermittlung.massnahme"], art="anfrage", unit="arbeitsvermittlung", closed_after=10),
        # 2025: five reactions, seven concerns
        _row(d(2025, 1), ["leistung.auszahlung", "leistung.bearbeitungsdauer"], closed_after=14, begruendet="ja",
             urgency="existenzbedrohend", unit="ombudsstelle"),
        _row(d(2025, 1, 20), ["leistung.berechnung"], channel="Online-Portal", closed_after=20, begruendet="nein"),
        _row(d(2025, 6), ["kommunal.unterkunft", "kommunal.umzug"], closed_after=2, absender="dritte",
             unit="ombudsstelle"),
        _row(d(2025, 7), ["mitarbeiterverhalten.umgang"], art="lob", channel="telefonisch", unit="krm",
             reviewed=False),
        _row(d(2025, 12, 30), ["vermittlung.massnahme"], art="anfrage", unit="arbeitsvermittlung"),
    ]
    return pd.DataFrame(rows, columns=list(COLUMNS))


def test_figures_of_a_year_against_the_year_before(taxonomy):
    f = annual_figures(_frame(), 2025, taxonomy, deleted=2)
    assert (f["reactions"]["count"], f["concerns"]["count"]) == (5, 7)
    assert (f["reactions"]["previous"], f["reactions"]["change"]) == (3, 66.7)
    assert (f["concerns"]["previous"], f["concerns"]["change"]) == (4, 75.0)
    areas = {r["code"]: r for r in f["by_area"]}
    assert (areas["leistung"]["count"], areas["leistung"]["previous"], areas["leistung"]["change"]) == (3, 2, 50.0)
    assert areas["kommunal"]["share"] == round(100 * 2 / 7, 1)
    complaints = {r["code"]: r for r in f["complaints_by_area"]}  # concerns of the three complaints
    assert f["complaints"] == 3 and complaints["leistung"]["share"] == 60.0
    # settled within 14 days: 14 and 2 days yes, 20 days no; two still open
    assert f["settled"] == {"count": 3, "in_time": 2, "share_in_time": 66.7, "open": 2, "previous_share_in_time": 66.7}
    assert {r["code"]: r["count"] for r in f["by_channel"]} == {"E-Mail": 3, "Online-Portal": 1, "telefonisch": 1}
    assert [r["code"] for r in f["by_art"]][:2] == ["beschwerde", "lob"]  # the tree's order
    assert {r["code"]: r["count"] for r in f["begruendet"]} == {"ja": 1, "nein": 1, "offen": 1}
    assert f["counts"]["by_month"]["1"] == 2 and f["counts"]["by_month"]["12"] == 1
    assert (f["existence_threatening"], f["third_party"], f["reviewed_share"], f["deleted"]) == (1, 1, 80.0, 2)


def test_a_year_whose_messages_are_gone_is_compared_from_its_saved_counts(taxonomy):
    frame = _frame()
    saved = annual_figures(frame, 2024, taxonomy)["counts"]
    only_2025 = frame[frame["received_at"].map(lambda t: t.year) == 2025]
    f = annual_figures(only_2025, 2025, taxonomy, previous=saved)
    assert f["previous_year"] == 2024 and f["reactions"]["change"] == 66.7
    assert annual_figures(only_2025, 2025, taxonomy)["previous_year"] is None  # nothing to compare with


def test_an_empty_year_gives_zeros_not_errors(taxonomy):
    f = annual_figures(pd.DataFrame([], columns=list(COLUMNS)), 2030, taxonomy)
    assert f["reactions"]["count"] == 0 and f["settled"]["share_in_time"] is None and f["by_area"] == []


def test_report_command_writes_html_charts_csv_and_json_from_the_store(tiny_engine, taxonomy, tmp_path):
    from sqlalchemy import select

    from triage.store.db import database_url, migrate, session_scope
    from triage.store.deletion import delete_message
    from triage.store.messages import review_message, store_message
    from triage.store.tables import Message

    url = database_url(tmp_path / "data")
    migrate(url)
    texts = ["Mein Geld ist nicht gekommen.", "Die Hotline ist nie erreichbar.", "Der Bescheid ist falsch berechnet.",
             "Ich möchte mich bei Frau K. bedanken."]
    with session_scope(url) as session:
        for i, text in enumerate(texts * 2):
            year = 2024 if i < 3 else 2025
            received = datetime(year, 1 + i, 5, 10, tzinfo=UTC)
            message, _ = store_message(session, taxonomy, text=text, result=tiny_engine.classify(text).as_dict(),
                                       channel="E-Mail" if i % 2 else "Online-Portal", received_at=received)
            review_message(session, taxonomy, message.id, version=message.version, reviewer="clara",
                           action="correct", labels={"concerns": ["leistung.auszahlung"], "art": "beschwerde"},
                           status="abgeschlossen")
            message.closed_at = received + timedelta(days=5 if i % 3 else 20)
        last = session.scalars(select(Message).order_by(Message.id.desc())).first()
        delete_message(session, last.id, actor="datenschutz", reason="Antrag")
    out = tmp_path / "berichte"
    result = runner.invoke(app, ["report", "2025", "--data-dir", str(tmp_path / "data"), "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "4 Reaktionen" in result.stdout
    html = (out / "jahresbericht-2025.html").read_text(encoding="utf-8")
    assert "Jahresbericht 2025" in html and "+33,3 %" in html and "gelöscht" in html
    assert all((out / f"jahresbericht-2025-{c}.png").stat().st_size > 1000 for c in ("bereiche", "eingangswege",
                                                                                    "monate"))
    csv = (out / "jahresbericht-2025.csv").read_text(encoding="utf-8")
    assert "Eingangsweg;E-Mail;E-Mail;2;50,0;1;100,0" in csv.splitlines()
    saved = json.loads((out / "jahresbericht-2025.json").read_text(encoding="utf-8"))
    assert saved["counts"]["reactions"] == 4 and saved["deleted"] == 1
    empty = runner.invoke(app, ["report", "2031", "--data-dir", str(tmp_path / "data"), "--output", str(out)])
    assert empty.exit_code == 0 and "keine gespeicherten Nachrichten" in empty.stderr
