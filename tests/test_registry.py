"""The registry refuses tampered and foreign artefacts before unpickling them."""
import json

import pytest

from triage.classify.engine import Engine
from triage.errors import IntegrityError, RegistryError
from triage.registry import Registry


@pytest.fixture
def registry(tmp_path):
    reg = Registry(tmp_path / "models")
    reg.save("v1", {"head": {"weights": [1, 2, 3]}}, {"model.json": "{}"}, {"created": "2026-01-01T00:00:00"})
    reg.save("v2", {"head": {"weights": [4, 5, 6]}}, {"model.json": "{}"}, {"created": "2026-01-02T00:00:00"})
    return reg


def test_round_trip_and_manifest(registry):
    estimators, files, manifest = registry.load("v1")
    assert estimators["head"] == {"weights": [1, 2, 3]}
    assert set(manifest["artefacts"]) == {"head.joblib", "model.json"}
    assert all(len(h) == 64 for h in manifest["artefacts"].values())


def test_tampered_artefact_is_refused(registry):
    path = registry.versions_dir / "v1" / "head.joblib"
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(IntegrityError, match="sha256") as info:
        registry.load("v1")
    assert info.value.code == "S001"


def test_foreign_manifest_is_refused(registry, tmp_path):
    other = Registry(tmp_path / "elsewhere")
    other.save("v9", {"head": {"evil": True}}, {}, {"created": "2026-01-03T00:00:00"})
    target = registry.versions_dir / "v9"
    (other.versions_dir / "v9").rename(target)
    with pytest.raises(IntegrityError) as info:
        registry.load("v9")
    assert info.value.code == "S002"


def test_edited_manifest_hash_is_refused(registry):
    path = registry.versions_dir / "v2" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["artefacts"]["head.joblib"] = "0" * 64
    path.write_text(json.dumps(manifest))
    with pytest.raises(IntegrityError, match="nicht von diesem Register signiert"):
        registry.load("v2")


def test_unlisted_file_is_refused(registry):
    (registry.versions_dir / "v1" / "extra.joblib").write_bytes(b"x")
    with pytest.raises(IntegrityError, match="nicht im Manifest"):
        registry.load("v1")


def test_activate_and_rollback(registry):
    assert registry.active() is None
    registry.activate("v1")
    registry.activate("v2")
    assert registry.active() == "v2"
    assert registry.rollback() == "v1"
    assert registry.active() == "v1"
    with pytest.raises(RegistryError):
        registry.activate("v3")
    with pytest.raises(RegistryError):
        registry.save("v1", {}, {}, {})


def test_engine_refuses_tampered_model(tiny_registry, tmp_path):
    import shutil

    copy = Registry(tmp_path / "copy", tiny_registry.key_path)
    shutil.copytree(tiny_registry.versions_dir, copy.versions_dir)
    (copy.versions_dir / "tiny" / "head-urgency.joblib").write_bytes(b"not a model")
    with pytest.raises(IntegrityError):
        Engine.from_registry(copy, "tiny")
