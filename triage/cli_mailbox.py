"""`triage mailbox`: tag an IMAP folder once (`run-once`) or keep watching it (`watch`).

Thin commands: they read options and the environment, build an `ImapMailbox` and a `Tagger`
and print one line. The password comes only from TRIAGE_IMAP_PASSWORD (never an option, never
printed). Registered by the main app with `app.add_typer(mailbox_app, name="mailbox")`.
"""
from __future__ import annotations

import logging
import os
import tomllib
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from .cli_common import EXIT_ERROR, registry, settings_for
from .errors import TriageError, ValidationError

__all__ = ["mailbox_app"]

mailbox_app = typer.Typer(help="IMAP-Postfach: neue E-Mails klassifizieren, zur Prüfung speichern und "
                               "mit Schlagwörtern (KRM_…) versehen.", no_args_is_help=True)

PASSWORD_ENV = "TRIAGE_IMAP_PASSWORD"


class Security(StrEnum):
    tls = "tls"
    starttls = "starttls"
    none = "none"


Host = Annotated[str | None, typer.Option("--host", envvar="TRIAGE_IMAP_HOST", help="IMAP-Server")]
Port = Annotated[int | None, typer.Option("--port", envvar="TRIAGE_IMAP_PORT",
                                          help="Port (Standard: 993 bei tls, sonst 143)")]
User = Annotated[str | None, typer.Option("--user", envvar="TRIAGE_IMAP_USER", help="Benutzername des Postfachs")]
Folder = Annotated[str | None, typer.Option("--folder", help="überwachter Ordner (Standard INBOX)")]
SecurityOpt = Annotated[Security | None, typer.Option("--security", help="tls (Standard), starttls oder none")]
Config = Annotated[Path | None, typer.Option("--config", envvar="TRIAGE_IMAP_CONFIG",
                                            help="TOML-Datei mit [imap] host, port, user, password, folder, "
                                                 "security, prefix und [imap.unit_folders]")]
DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Datenordner (Standard: TRIAGE_DATA_DIR oder ./data)")]
DatabaseUrl = Annotated[str | None, typer.Option("--database-url", help="SQLAlchemy-URL (Standard: SQLite)")]
Prefix = Annotated[str, typer.Option("--prefix", help="Präfix der Schlagwörter")]
Since = Annotated[datetime | None, typer.Option("--since", formats=["%Y-%m-%d"],
                                                help="beim ersten Start nur E-Mails ab diesem Tag")]
UnitFolders = Annotated[list[str] | None, typer.Option(
    "--unit-folder", help="ORDNER=STELLE: in diesen Ordner verschobene E-Mails gelten als umgeleitet (mehrfach)")]
ModelVersion = Annotated[str | None, typer.Option("--model-version", help="Modellversion (Standard: aktive)")]
CopyToUnits = Annotated[bool, typer.Option("--copy-to-units", help="zusätzlich in einen Ordner je Stelle kopieren")]


def _unit_folders(pairs: list[str] | None) -> dict[str, str]:
    folders = {}
    for pair in pairs or []:
        folder, sep, unit = pair.rpartition("=")
        if not sep or not folder or not unit:
            raise ValidationError("V001", field="--unit-folder", reason=f"{pair!r}: erwartet ORDNER=STELLE")
        folders[folder] = unit
    return folders


def _configured(config: Path | None, **given) -> dict:
    """Command line and environment first, then the configuration file's [imap] table, then
    defaults. The password comes only from TRIAGE_IMAP_PASSWORD or the file, never an argument."""
    table: dict = {}
    if config is not None:
        try:
            table = tomllib.loads(config.read_text(encoding="utf-8")).get("imap", {})
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ValidationError("V001", field="--config", reason=f"{config}: {exc}") from exc
    merged = {key: value if value is not None else table.get(key) for key, value in given.items()}
    for key, missing in (("host", "IMAP-Server (--host)"), ("user", "Benutzername (--user)")):
        if not merged.get(key):
            raise ValidationError("V001", field=key, reason=f"{missing} fehlt, auch in TRIAGE_IMAP_* und --config")
    merged["folder"] = merged.get("folder") or "INBOX"
    merged["security"] = Security(merged.get("security") or "tls")
    merged["prefix"] = merged.get("prefix") or "KRM_"
    merged["password"] = os.environ.get(PASSWORD_ENV) or table.get("password", "")
    merged["unit_folders"] = [f"{k}={v}" for k, v in table.get("unit_folders", {}).items()] + list(
        merged.get("unit_folders") or [])
    return merged


def _tagger(host: str, port: int | None, user: str, folder: str, security: Security, data_dir: Path | None,
            database_url: str | None, prefix: str, since: datetime | None, unit_folders: list[str] | None,
            model_version: str | None, password: str = "", **options):
    from .classify.engine import Engine
    from .mail.imap import ImapMailbox
    from .mail.tagger import Tagger
    from .store.db import migrate

    folders = _unit_folders(unit_folders)
    url = settings_for(data_dir, database_url).db_url()
    mailbox = ImapMailbox(host, user, password, port=port, security=security.value)
    if security is Security.none and host not in ("127.0.0.1", "localhost", "::1"):
        typer.echo(f"Warnung: Verbindung zu {host} ohne Verschlüsselung", err=True)
    engine = Engine.from_registry(registry(), model_version)
    migrate(url)
    return Tagger(mailbox, engine, url, folder, prefix=prefix, since=since.date() if since else None,
                  unit_folders=folders, **options), mailbox


@mailbox_app.command("run-once")
def run_once(
    host: Host = None, user: User = None, port: Port = None, folder: Folder = None, security: SecurityOpt = None,
    data_dir: DataDir = None, database_url: DatabaseUrl = None, prefix: Prefix = None, since: Since = None,
    unit_folder: UnitFolders = None, model_version: ModelVersion = None, config: Config = None,
    copy_to_units: CopyToUnits = False,
    sync: Annotated[bool, typer.Option(help="auch Korrekturen abgleichen (Schlagwörter, verschobene E-Mails)")] = True,
) -> None:
    """Verarbeitet alle neuen E-Mails des Ordners einmal und beendet sich.

    Beispiel: TRIAGE_IMAP_PASSWORD=… triage mailbox run-once --host imap.jobcenter.example --user krm
    """
    try:
        c = _configured(config, host=host, port=port, user=user, folder=folder, security=security, prefix=prefix,
                        unit_folders=unit_folder)
        tagger, mailbox = _tagger(c["host"], c["port"], c["user"], c["folder"], c["security"], data_dir,
                                  database_url, c["prefix"], since, c["unit_folders"], model_version,
                                  password=c["password"], copy_to_units=copy_to_units)
        try:
            report = tagger.run_once()
            if sync:
                report += tagger.sync_corrections()
        finally:
            mailbox.close()
    except TriageError as exc:
        typer.echo(f"Fehler: {exc}", err=True)
        raise typer.Exit(EXIT_ERROR) from exc
    typer.echo(report.summary())


@mailbox_app.command()
def watch(
    host: Host = None, user: User = None, port: Port = None, folder: Folder = None, security: SecurityOpt = None,
    data_dir: DataDir = None, database_url: DatabaseUrl = None, prefix: Prefix = None, since: Since = None,
    unit_folder: UnitFolders = None, model_version: ModelVersion = None, config: Config = None,
    copy_to_units: CopyToUnits = False,
    idle_seconds: Annotated[float, typer.Option(help="höchstens so lange auf neue Post warten (IDLE)")] = 300.0,
    sync_seconds: Annotated[float, typer.Option(help="Korrekturen alle … Sekunden abgleichen")] = 300.0,
) -> None:
    """Überwacht den Ordner (IDLE, sonst Abfrage) bis Strg+C; Verbindungsabbrüche werden mit wachsender Pause
    wiederholt.

    Beispiel: TRIAGE_IMAP_PASSWORD=… triage mailbox watch --host imap.jobcenter.example --user krm \\
              --unit-folder Ombudsstelle=ombudsstelle
    """
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        c = _configured(config, host=host, port=port, user=user, folder=folder, security=security, prefix=prefix,
                        unit_folders=unit_folder)
        tagger, mailbox = _tagger(c["host"], c["port"], c["user"], c["folder"], c["security"], data_dir,
                                  database_url, c["prefix"], since, c["unit_folders"], model_version,
                                  password=c["password"], idle_timeout=idle_seconds, sync_every=sync_seconds,
                                  copy_to_units=copy_to_units)
        typer.echo(f"Überwache {mailbox.name}/{c['folder']} (Strg+C beendet)", err=True)
        try:
            report = tagger.watch()
        except KeyboardInterrupt:
            report = None
        finally:
            mailbox.close()
    except TriageError as exc:
        typer.echo(f"Fehler: {exc}", err=True)
        raise typer.Exit(EXIT_ERROR) from exc
    typer.echo(report.summary() if report else "Beendet.")
