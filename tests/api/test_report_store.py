"""The annual report reads the same figures from SQLite and PostgreSQL (JSON fields differ)."""
from datetime import UTC, datetime

from triage.reporting.load import deleted_in, messages_frame
from triage.store.audit import record
from triage.store.db import migrate, session_scope
from triage.store.messages import store_message


def test_report_reads_messages_and_deletions_of_a_year(db_url, tiny_engine, taxonomy):
    migrate(db_url)
    with session_scope(db_url) as session:
        for year, text in ((2024, "Mein Geld fehlt."), (2025, "Die Hotline ist nie erreichbar."),
                           (2025, "Der Bescheid ist unverständlich.")):
            store_message(session, taxonomy, text=text, result=tiny_engine.classify(text).as_dict(),
                          channel="E-Mail", received_at=datetime(year, 3, 1, tzinfo=UTC))
        record(session, "datenschutz", "nachricht.geloescht", 99, reason="Antrag", received="2025-02-01")
        record(session, "datenschutz", "nachricht.geloescht", 98, reason="Antrag", received="2024-12-31")
    with session_scope(db_url) as session:
        frame = messages_frame(session, 2025, 2025)
        assert len(frame) == 2 and all(isinstance(c, list) and c for c in frame["concerns"])
        assert len(messages_frame(session, 2024, 2025)) == 3
        assert (deleted_in(session, 2025), deleted_in(session, 2024), deleted_in(session, 2023)) == (1, 1, 0)


def test_annual_figures_over_the_api(client, ombuds_client):
    stored = client.post("/v1/messages", json={"text": "Die Hotline ist seit Tagen nicht erreichbar.",
                                               "channel": "Online-Portal"}).json()
    year = datetime.fromisoformat(client.get(f"/v1/messages/{stored['id']}").json()["received_at"]).year
    figures = client.get(f"/v1/reports/{year}").json()
    assert figures["year"] == year and figures["reactions"]["count"] == 1
    assert figures["by_channel"][0]["code"] == "Online-Portal"
    assert ombuds_client.get(f"/v1/reports/{year}").status_code == 403  # it covers every unit
    assert client.get("/v1/reports/1999").status_code == 422
