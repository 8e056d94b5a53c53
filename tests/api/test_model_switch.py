"""A newly activated model version is served without restart and without failed requests."""
from __future__ import annotations

import time

import pytest

from tests.conftest import TINY
from training.train import train
from triage.registry import Registry


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_service_switches_to_the_newly_activated_version(client, settings, taxonomy):
    registry = Registry(settings.models_dir)
    train(taxonomy, registry, TINY, version="tiny2", folds=2, activate=False)
    seen = set()
    body = {"text": "Die Hotline ist nicht erreichbar."}
    assert client.post("/v1/triage", json=body).json()["model_version"] == "tiny"
    registry.activate("tiny2")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "tiny2" not in seen:
        response = client.post("/v1/triage", json=body)
        assert response.status_code == 200
        seen.add(response.json()["model_version"])
        time.sleep(0.05)
    assert "tiny2" in seen
    assert client.get("/v1/models").json()["serving"] == "tiny2"
