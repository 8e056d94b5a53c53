"""Model registry: versions under one folder, each with a signed manifest and hashed artefacts.

Layout:  <models_dir>/versions/<version>/{manifest.json, model.json, taxonomy.toml, *.joblib}
         <models_dir>/ACTIVE          the version in service (replaced atomically)
         <models_dir>/history.jsonl   every activation, for rollback
         <models_dir>/.registry-key   secret that signs manifests (created on first use)

joblib files execute code when loaded, so `load` checks first that the manifest is signed by
this registry's key, that every file in the version folder is listed in it, and that every
artefact's sha256 matches; a tampered or foreign artefact is refused before it is unpickled.
A version is written to a temporary folder and renamed into place, so a crash never leaves a
half-written version, and ACTIVE only ever names a complete one.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import joblib

from .errors import IntegrityError, RegistryError

__all__ = ["Registry", "VersionInfo", "sha256_file"]

MANIFEST = "manifest.json"
ESTIMATOR_SUFFIX = ".joblib"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _canonical(data: dict) -> bytes:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def code_version() -> str:
    from . import __version__

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=Path(__file__).parent, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{__version__}+{commit}" if commit else __version__


@dataclass(frozen=True)
class VersionInfo:
    version: str
    manifest: dict
    active: bool

    @property
    def status(self) -> str:
        return "aktiv" if self.active else self.manifest.get("status", "bereit")


class Registry:
    def __init__(self, root: str | Path, key_path: str | Path | None = None) -> None:
        self.root = Path(root)
        self.versions_dir = self.root / "versions"
        self.key_path = Path(key_path) if key_path else self.root / ".registry-key"

    # -- signing -----------------------------------------------------------------------------
    def _key(self) -> bytes:
        if not self.key_path.exists():
            self.key_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.key_path.with_suffix(".tmp")
            tmp.write_text(secrets.token_hex(32))
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.key_path)
        return self.key_path.read_text().strip().encode()

    def _sign(self, manifest: dict) -> str:
        body = {k: v for k, v in manifest.items() if k != "signature"}
        return hmac.new(self._key(), _canonical(body), hashlib.sha256).hexdigest()

    # -- writing -----------------------------------------------------------------------------
    def save(self, version: str, estimators: dict[str, object], files: dict[str, str], manifest: dict) -> Path:
        """Write a new version: estimators via joblib, `files` as text, manifest signed last."""
        final = self.versions_dir / version
        if final.exists():
            raise RegistryError("R002", version=version)
        tmp = self.versions_dir / f".tmp-{version}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        try:
            for name, estimator in estimators.items():
                joblib.dump(estimator, tmp / f"{name}{ESTIMATOR_SUFFIX}", compress=3)
            for name, text in files.items():
                (tmp / name).write_text(text, encoding="utf-8")
            artefacts = {p.name: sha256_file(p) for p in sorted(tmp.iterdir())}
            manifest = {**manifest, "version": version, "artefacts": artefacts}
            manifest["signature"] = self._sign(manifest)
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return final

    def set_status(self, version: str, status: str, reason: str = "") -> None:
        """Record a version's state (candidate, rejected, ...) beside its signed manifest."""
        path = self._dir(version) / "status.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"status": status, "reason": reason}, ensure_ascii=False))
        os.replace(tmp, path)

    # -- reading -----------------------------------------------------------------------------
    def _dir(self, version: str) -> Path:
        path = self.versions_dir / version
        if not version or "/" in version or version.startswith(".") or not (path / MANIFEST).is_file():
            raise RegistryError("R001", version=version, path=self.root)
        return path

    def manifest(self, version: str) -> dict:
        path = self._dir(version) / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RegistryError("R003", version=version, reason=str(exc)) from exc
        status = self._dir(version) / "status.json"
        if status.exists():
            data = {**data, **json.loads(status.read_text(encoding="utf-8"))}
        return data

    def verify(self, version: str) -> dict:
        """Check signature, completeness and hashes; return the manifest or raise IntegrityError."""
        folder = self._dir(version)
        manifest = self.manifest(version)
        manifest.pop("status", None)
        manifest.pop("reason", None)
        if not hmac.compare_digest(str(manifest.get("signature", "")), self._sign(manifest)):
            raise IntegrityError("S002", version=version)
        listed = manifest.get("artefacts", {})
        for path in folder.iterdir():
            if path.name not in listed and path.name not in (MANIFEST, "status.json"):
                raise IntegrityError("S003", name=path.name, version=version)
        for name, digest in listed.items():
            path = folder / name
            if not path.is_file():
                raise IntegrityError("S004", name=name, version=version)
            if not hmac.compare_digest(sha256_file(path), digest):
                raise IntegrityError("S001", name=name, version=version)
        return manifest

    def load(self, version: str) -> tuple[dict[str, object], dict[str, str], dict]:
        """(estimators, text files, manifest) of a verified version."""
        manifest = self.verify(version)
        folder = self._dir(version)
        estimators, files = {}, {}
        for name in manifest["artefacts"]:
            if name.endswith(ESTIMATOR_SUFFIX):
                estimators[name.removesuffix(ESTIMATOR_SUFFIX)] = joblib.load(folder / name)
            else:
                files[name] = (folder / name).read_text(encoding="utf-8")
        return estimators, files, manifest

    def versions(self) -> list[VersionInfo]:
        if not self.versions_dir.is_dir():
            return []
        active = self.active()
        names = sorted(p.name for p in self.versions_dir.iterdir() if (p / MANIFEST).is_file())
        infos = [VersionInfo(n, self.manifest(n), n == active) for n in names]
        return sorted(infos, key=lambda i: i.manifest.get("created", ""))

    # -- activation --------------------------------------------------------------------------
    def active(self) -> str | None:
        path = self.root / "ACTIVE"
        return path.read_text().strip() or None if path.is_file() else None

    def activate(self, version: str, reason: str = "") -> None:
        """Verify, then atomically point ACTIVE at `version` and log it for rollback."""
        self.verify(version)
        previous = self.active()
        tmp = self.root / f".ACTIVE-{os.getpid()}.tmp"
        tmp.write_text(version)
        os.replace(tmp, self.root / "ACTIVE")
        entry = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "version": version,
                 "previous": previous, "reason": reason}
        with open(self.root / "history.jsonl", "a", encoding="utf-8") as log:
            log.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def rollback(self) -> str:
        """Re-activate the version that was active before the current one."""
        current = self.active()
        history = self.root / "history.jsonl"
        entries = [json.loads(line) for line in history.read_text().splitlines()] if history.exists() else []
        for entry in reversed(entries):
            if entry["version"] == current and entry.get("previous"):
                self.activate(entry["previous"], reason=f"rollback from {current}")
                return entry["previous"]
        raise RegistryError("R001", version="(vorherige)", path=self.root)
