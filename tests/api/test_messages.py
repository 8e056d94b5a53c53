"""REST API behaviour on a real store (SQLite and PostgreSQL)."""
from __future__ import annotations

import json

from sqlalchemy import func, select

from triage.store.db import session_scope
from triage.store.tables import AuditEntry, Message, Review

HOTLINE = {"text": "Die Hotline ist seit Tagen nicht erreichbar, immer nur Warteschleife.", "subject": "Hotline",
           "channel": "Online-Portal"}


def store(client, **body):
    response = client.post("/v1/messages", json={**HOTLINE, **body})
    assert response.status_code == 201, response.text
    return response.json()


def correct(client, message_id: int, **labels):
    version = client.get(f"/v1/messages/{message_id}").json()["version"]
    response = client.post(f"/v1/messages/{message_id}/review",
                           json={"version": version, "action": "correct", "labels": labels})
    assert response.status_code == 200, response.text
    return response.json()


def test_health_is_open_everything_else_needs_a_login(anonymous):
    assert anonymous.get("/healthz").json() == {"status": "ok"}
    for method, path in [("get", "/v1/messages"), ("post", "/v1/triage"), ("get", "/v1/taxonomy"),
                         ("get", "/metrics"), ("get", "/v1/models")]:
        response = getattr(anonymous, method)(path)
        assert response.status_code == 401, path
        assert "Anmeldung erforderlich" in response.json()["detail"]
    assert anonymous.get("/v1/messages", headers={"Authorization": "Bearer falsch"}).status_code == 401


def test_triage_answers_like_the_cli_and_stores_nothing(client, settings):
    response = client.post("/v1/triage", json={"text": "Mein Geld ist nicht gekommen.", "subject": "Geld"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"labels", "scores", "evidence", "needs_review", "model_version"}
    assert set(body["labels"]) == {"concerns", "art", "urgency", "absender", "routing", "language"}
    raw = "Subject: =?utf-8?q?K=C3=BCndigung?=\nContent-Type: text/plain; charset=utf-8\n\nDie Miete fehlt.\n"
    assert client.post("/v1/triage", json={"email": raw}).status_code == 200
    with session_scope(settings.db_url()) as session:
        assert session.scalar(select(func.count(Message.id))) == 0


def test_store_is_idempotent_with_a_client_key(client):
    first = client.post("/v1/messages", json=HOTLINE, headers={"Idempotency-Key": "portal-4711"})
    again = client.post("/v1/messages", json=HOTLINE, headers={"Idempotency-Key": "portal-4711"})
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"] and again.json()["created"] is False
    assert client.get("/v1/messages").json()["total"] == 1


def test_list_filters_paging_and_queue_order(client):
    ids = [store(client, text=f"Die Hotline ist nicht erreichbar, Versuch {i}.")["id"] for i in range(5)]
    for i in ids:
        correct(client, i, urgency="normal", routing="krm")
    crisis = store(client, text="Der Strom ist seit heute abgestellt und wir haben nichts zu essen.")
    correct(client, crisis["id"], urgency="existenzbedrohend")
    page = client.get("/v1/messages", params={"limit": 2}).json()
    assert page["total"] == 6 and len(page["items"]) == 2
    assert page["items"][0]["id"] == crisis["id"]  # the crisis comes first
    rest = client.get("/v1/messages", params={"limit": 10, "offset": 1}).json()["items"]
    assert [m["id"] for m in rest] == ids  # then oldest first
    only = client.get("/v1/messages", params={"urgency": "existenzbedrohend"}).json()
    assert [m["id"] for m in only["items"]] == [crisis["id"]]
    assert client.get("/v1/messages", params={"unit": "ombudsstelle"}).json()["total"] == 1


def test_queue_by_uncertainty_puts_the_least_confident_unreviewed_first(client):
    texts = ["Die Hotline ist nicht erreichbar, immer nur Warteschleife.",
             "Hallo, ich wollte nur mal fragen wegen dem Ding von neulich.",
             "Mein Geld ist nicht gekommen und das Konto ist leer.",
             "Der Termin beim Arbeitsvermittler wurde schon wieder verschoben."]
    ids = [store(client, text=t)["id"] for t in texts]
    correct(client, ids[1], urgency="normal")  # reviewed: nothing more to learn from it here
    items = client.get("/v1/messages", params={"order": "unsicher", "limit": 10}).json()["items"]
    assert [m["id"] for m in items][-1] == ids[1]
    unreviewed = [m["confidence"] for m in items[:-1]]
    assert unreviewed == sorted(unreviewed) and len(unreviewed) == 3
    assert client.get("/v1/messages", params={"order": "zufall"}).status_code == 422


def test_review_accept_correct_and_conflict(client, settings):
    stored = store(client)
    detail = client.get(f"/v1/messages/{stored['id']}").json()
    assert detail["status"] == "neu" and detail["prediction"]["model_version"] == "tiny"
    accepted = client.post(f"/v1/messages/{stored['id']}/review", json={"version": detail["version"]})
    assert accepted.status_code == 200 and accepted.json()["reviewed"] is True
    stale = client.post(f"/v1/messages/{stored['id']}/review", json={"version": detail["version"]})
    assert stale.status_code == 409 and "neu laden" in stale.json()["detail"]
    fresh = accepted.json()["version"]
    corrected = client.post(f"/v1/messages/{stored['id']}/review", json={
        "version": fresh, "action": "correct", "labels": {"concerns": ["service_center.gespraechsfuehrung"]},
        "status": "abgeschlossen", "begruendet": "ja", "note": "Rückruf vereinbart"})
    body = corrected.json()
    assert body["labels"]["concerns"] == ["service_center.gespraechsfuehrung"]
    assert body["status"] == "abgeschlossen" and body["closed_at"] and body["begruendet"] == "ja"
    assert [r["action"] for r in body["reviews"]] == ["accept", "correct"]
    with session_scope(settings.db_url()) as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.message_id == stored["id"])).all()
    assert actions == ["nachricht.angelegt", "nachricht.geprueft", "nachricht.korrigiert"]


def test_unknown_codes_are_refused_and_nothing_is_stored(client, settings):
    stored = store(client)
    version = client.get(f"/v1/messages/{stored['id']}").json()["version"]
    for labels, field in [({"concerns": ["leistung.zauberei"]}, "concerns"), ({"urgency": "sofort"}, "urgency"),
                          ({"routing": "poststelle"}, "routing")]:
        response = client.post(f"/v1/messages/{stored['id']}/review",
                               json={"version": version, "action": "correct", "labels": labels})
        assert response.status_code == 422
        assert field in response.json()["detail"]
    with session_scope(settings.db_url()) as session:
        assert session.scalar(select(func.count(Review.id))) == 0
        assert session.get(Message, stored["id"]).version == version


def test_bad_input_gets_a_clear_4xx_never_500(client):
    assert client.get("/v1/messages/999999").status_code == 404
    assert "gibt es nicht" in client.get("/v1/messages/999999").json()["detail"]
    bad_json = client.post("/v1/messages", content=b"{kein json", headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 422
    assert client.post("/v1/messages", json={"text": 42}).status_code == 422
    assert client.post("/v1/messages", json={"text": "x", "channel": "Brieftaube"}).status_code == 422
    assert client.post("/v1/messages", json={"text": "x", "farbe": "blau"}).status_code == 422
    assert client.post("/v1/messages", json={"text": "   "}).status_code == 422
    assert client.post("/v1/triage", json={}).status_code == 422
    huge = client.post("/v1/messages", content=json.dumps({"text": "a" * 5_100_000}),
                       headers={"Content-Type": "application/json"})
    assert huge.status_code == 413
    assert client.get("/v1/messages", params={"limit": 0}).status_code == 422
    assert client.get("/v1/messages/abc").status_code == 422
    assert client.get("/v1/messages").json()["total"] == 0


def test_ombudsstelle_sees_what_is_routed_to_it(client, ombuds_client):
    mine = store(client, text="Ich schreibe als Betreuerin für Herrn K., sein Geld fehlt.")
    other = store(client)
    correct(client, mine["id"], routing="ombudsstelle")
    correct(client, other["id"], routing="krm")
    seen = ombuds_client.get("/v1/messages").json()
    assert [m["id"] for m in seen["items"]] == [mine["id"]]
    assert ombuds_client.get(f"/v1/messages/{other['id']}").status_code == 403


def test_taxonomy_models_metrics_and_readiness(client):
    tree = client.get("/v1/taxonomy").json()
    assert len([t for a in tree["areas"] for t in a["topics"]]) == 33
    assert "ombudsstelle" in tree["fields"]["routing"]
    models = client.get("/v1/models").json()
    assert models["active"] == "tiny" and models["versions"][0]["version"] == "tiny"
    store(client)
    assert "krm_triage_messages_stored_total" in client.get("/metrics").text
    assert client.get("/readyz").json()["status"] == "bereit"
    headers = client.get("/healthz").headers
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"


def test_admin_manages_users_and_models(client, admin_client):
    assert client.post("/v1/users", json={"name": "mia"}).status_code == 403
    created = admin_client.post("/v1/users", json={"name": "mia", "role": "ombudsstelle"})
    assert created.status_code == 201 and len(created.json()["password"]) >= 12
    assert admin_client.post("/v1/users", json={"name": "mia"}).status_code == 422
    assert admin_client.post("/v1/users", json={"name": "x", "role": "chef"}).status_code == 422
    assert client.post("/v1/models/tiny/activate").status_code == 403
    assert admin_client.post("/v1/models/tiny/activate").json() == {"active": "tiny"}
    assert admin_client.post("/v1/models/gibtsnicht/activate").status_code == 404


def test_admin_deletes_a_message_with_everything_derived_from_it(client, admin_client, settings):
    kept, gone = store(client), store(client, text="Mein Name ist Erika Muster, IBAN DE02 1203 0000 0000 2020 51.")
    correct(client, gone["id"], urgency="zeitkritisch")
    path = f"/v1/messages/{gone['id']}"
    assert client.delete(path, params={"reason": "Löschantrag"}).status_code == 403  # clerks may not
    assert admin_client.delete(path).status_code == 422  # a reason is required
    assert admin_client.delete("/v1/messages/999999", params={"reason": "Löschantrag"}).status_code == 404
    assert admin_client.delete(path, params={"reason": "Löschantrag"}).status_code == 204
    assert client.get(path).status_code == 404
    assert client.get(f"/v1/messages/{kept['id']}").status_code == 200
    with session_scope(settings.db_url()) as session:
        assert session.scalar(select(func.count(Review.id)).where(Review.message_id == gone["id"])) == 0
        entries = session.execute(select(AuditEntry.action, AuditEntry.detail)
                                  .where(AuditEntry.message_id == gone["id"]).order_by(AuditEntry.id)).all()
    assert [a for a, _ in entries] == ["nachricht.angelegt", "nachricht.korrigiert", "nachricht.geloescht"]
    assert all(d == {"gelöscht": True} for _, d in entries[:-1])
    assert entries[-1][1]["reason"] == "Löschantrag" and "IBAN" not in json.dumps([list(e) for e in entries])
