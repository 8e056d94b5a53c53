"""Training is deterministic, and the corpus reader refuses labels outside the tree."""
import json

import pytest

from tests.conftest import TINY
from training.corpus import read_examples
from training.train import train
from triage.errors import DataError
from triage.registry import Registry


def test_training_is_deterministic(tmp_path, taxonomy):
    registry = Registry(tmp_path / "models")
    train(taxonomy, registry, TINY, version="a", folds=2, activate=False)
    train(taxonomy, registry, TINY, version="b", folds=2, activate=False)
    a, b = registry.manifest("a"), registry.manifest("b")
    assert a["artefacts"] == b["artefacts"]
    assert a["training_data_sha256"] == b["training_data_sha256"]
    assert a["metrics"] == b["metrics"]
    assert registry.active() is None


def test_manifest_describes_the_version(tiny_registry):
    manifest = tiny_registry.manifest("tiny")
    assert manifest["training_examples"] == 32
    assert len(manifest["training_data_sha256"]) == 64
    assert {"model.json", "taxonomy.toml", "vectoriser.joblib", "head-urgency.joblib"} <= set(manifest["artefacts"])
    assert "cv_first_topic_accuracy" in manifest["metrics"] and manifest["code_version"]


def _write(tmp_path, labels):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"id": "x", "text": "Hallo", "labels": labels}) + "\n", encoding="utf-8")
    return path


GOOD = {"concerns": ["leistung.auszahlung"], "art": "beschwerde", "urgency": "normal",
        "absender": "betroffen", "routing": "leistungsbereich", "language": "de"}


@pytest.mark.parametrize(("change", "message"), [
    ({"concerns": ["leistung.wunder"]}, "unbekannter Code 'leistung.wunder' im Feld concerns"),
    ({"urgency": "sofort"}, "unbekannter Code 'sofort' im Feld urgency"),
    ({"routing": "poststelle"}, "unbekannter Code 'poststelle' im Feld routing"),
    ({"concerns": []}, "concerns braucht 1 bis 3 Codes"),
    ({"concerns": ["digital.online", "digital.online"]}, "doppelt"),
])
def test_unknown_codes_are_refused_with_file_and_line(tmp_path, taxonomy, change, message):
    with pytest.raises(DataError, match=message) as info:
        list(read_examples(_write(tmp_path, {**GOOD, **change}), taxonomy))
    assert "bad.jsonl:1" in str(info.value)
