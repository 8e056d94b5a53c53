"""Two API worker processes on PostgreSQL reviewing the same queue at the same time:
no lost update, no double review (optimistic locking on the message version)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import func, select

from tests.services import free_port, wait_for_port
from triage.store.db import migrate, session_scope
from triage.store.tables import AuditEntry, Review
from triage.store.users import create_token


def test_two_workers_never_double_review(clean_postgres, tiny_registry, tmp_path):
    postgres_url = clean_postgres
    migrate(postgres_url)
    with session_scope(postgres_url) as session:
        token = create_token(session, "concurrency", "sachbearbeitung")
    shutil.copytree(tiny_registry.root, tmp_path / "models")
    env = {**os.environ, "TRIAGE_MODELS_DIR": str(tmp_path / "models"), "TRIAGE_DATA_DIR": str(tmp_path / "data"),
           "TRIAGE_DATABASE_URL": postgres_url}
    port = free_port()
    log = tmp_path / "server.log"
    with open(log, "w") as out:
        server = subprocess.Popen([sys.executable, "-m", "triage.cli", "serve", "--port", str(port), "--workers", "2"],
                                  env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, timeout=90, proc=server, log=log)
        base, headers = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            ids = [client.post("/v1/messages", json={"text": f"Wo bleibt mein Geld? Fall {i}"}).json()["id"]
                   for i in range(20)]
            versions = {i: client.get(f"/v1/messages/{i}").json()["version"] for i in ids}

        def review(job: tuple[int, int]) -> int:
            message_id, clerk = job
            with httpx.Client(base_url=base, headers=headers, timeout=60) as c:
                body = {"version": versions[message_id], "action": "correct", "note": f"Sachbearbeiter {clerk}",
                        "labels": {"urgency": "zeitkritisch" if clerk % 2 else "normal"}}
                return c.post(f"/v1/messages/{message_id}/review", json=body).status_code

        jobs = [(i, clerk) for i in ids for clerk in range(4)]
        with ThreadPoolExecutor(max_workers=16) as pool:
            codes = list(pool.map(review, jobs))
        per_message = {i: [c for (m, _), c in zip(jobs, codes) if m == i] for i in ids}
        for message_id, results in per_message.items():
            assert sorted(results) == [200, 409, 409, 409], (message_id, results)
        with session_scope(postgres_url) as session:
            assert session.scalar(select(func.count(Review.id))) == len(ids)
            corrections = session.scalar(select(func.count(AuditEntry.id))
                                         .where(AuditEntry.action == "nachricht.korrigiert"))
            assert corrections == len(ids)
    finally:
        server.terminate()
        server.wait(timeout=30)
        print(log.read_text(errors="replace")[-5000:])  # shown by pytest when the test fails
