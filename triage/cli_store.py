"""`triage users`, `tokens`, `messages` and `report`: accounts, API tokens, deletion and the annual
report from the store. Secrets go to stdout alone (for scripts); everything else is one line."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .cli_common import DatabaseUrl, DataDir, fail, settings_for, store_session
from .errors import TriageError

__all__ = ["users_app", "tokens_app", "messages_app", "report"]

users_app = typer.Typer(help="Benutzer des Web-Dienstes.", no_args_is_help=True)
tokens_app = typer.Typer(help="API-Tokens für Maschinen.", no_args_is_help=True)
messages_app = typer.Typer(help="Gespeicherte Nachrichten: löschen (Datenschutz, Aufbewahrungsfrist).",
                           no_args_is_help=True)


def _print_secret(create, name: str, role: str, data_dir: Path | None, database_url: str | None) -> None:
    """Create a user or token in the configured store and print only its secret on stdout."""
    try:
        with store_session(settings_for(data_dir, database_url)) as session:
            secret = create(session, name, role)
    except TriageError as exc:
        raise fail(exc) from exc
    typer.echo(secret)


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Option(help="sachbearbeitung, ombudsstelle oder admin")] = "sachbearbeitung",
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Legt einen Benutzer an und gibt ein einmaliges Passwort aus.

    Beispiel: triage users add mueller --role sachbearbeitung
    """
    from .store.users import create_user

    _print_secret(create_user, name, role, data_dir, database_url)


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Option(help="sachbearbeitung, ombudsstelle oder admin")] = "sachbearbeitung",
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Erzeugt ein API-Token (nur das Token steht auf stdout); Nutzung: Authorization: Bearer TOKEN.

    Beispiel: triage tokens create postfach --role sachbearbeitung
    """
    from .store.users import create_token

    _print_secret(create_token, name, role, data_dir, database_url)



RETENTION_REASON = "Aufbewahrungsfrist abgelaufen"


@messages_app.command("delete")
def messages_delete(
    message_id: Annotated[int, typer.Argument(help="Nummer der Nachricht")],
    reason: Annotated[str, typer.Option("--reason", help="Grund der Löschung (steht im Protokoll)")],
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Löscht eine Nachricht mit Vorhersagen und Prüfungen; das Nachtraining sieht sie nie wieder.

    Beispiel: triage messages delete 4711 --reason "Löschantrag nach Art. 17 DSGVO"
    """
    from .store.deletion import delete_message

    try:
        with store_session(settings_for(data_dir, database_url)) as session:
            delete_message(session, message_id, actor="cli", reason=reason)
    except TriageError as exc:
        raise fail(exc) from exc
    typer.echo(f"Nachricht {message_id} gelöscht")


@messages_app.command("purge")
def messages_purge(
    closed_days: Annotated[int, typer.Option("--closed-days", min=1,
                                             help="löscht, was seit mindestens so vielen Tagen abgeschlossen ist")],
    reason: Annotated[str, typer.Option("--reason", help="Grund (steht im Protokoll)")] = RETENTION_REASON,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Löscht alle Nachrichten, die länger als die Aufbewahrungsfrist abgeschlossen sind.

    Beispiel (zwei Jahre, z. B. wöchentlich per Timer): triage messages purge --closed-days 730
    """
    from datetime import UTC, datetime, timedelta

    from .store.deletion import purge_settled

    before = datetime.now(UTC) - timedelta(days=closed_days)
    try:
        with store_session(settings_for(data_dir, database_url)) as session:
            count = purge_settled(session, closed_before=before, actor="cli", reason=reason)
    except TriageError as exc:
        raise fail(exc) from exc
    typer.echo(f"{count} Nachrichten gelöscht (abgeschlossen vor {before:%Y-%m-%d})")


def report(
    year: Annotated[int, typer.Argument(help="Berichtsjahr, z. B. 2025")],
    output: Annotated[Path | None, typer.Option(help="Ordner für HTML, Diagramme, CSV und JSON "
                                                     "(Standard: <data-dir>/berichte)")] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Jahresbericht: Reaktionen und Anliegen je Bereich, Thema, Art und Eingangsweg, Veränderung
    zum Vorjahr, Anteil innerhalb von 14 Tagen abgeschlossen; als HTML mit Diagrammen, CSV und JSON.

    Beispiel: triage report 2025 --data-dir data
    """
    from .reporting.load import figures_for
    from .reporting.render import write_annual_report
    from .taxonomy import default_taxonomy

    settings = settings_for(data_dir, database_url)
    folder = output or settings.reports_dir
    try:
        with store_session(settings) as session:
            figures = figures_for(session, year, default_taxonomy(), folder)
    except TriageError as exc:
        raise fail(exc) from exc
    if figures["reactions"]["count"] == 0:
        typer.echo(f"Hinweis: keine gespeicherten Nachrichten aus {year}", err=True)
    path = write_annual_report(figures, folder)
    typer.echo(f"Jahresbericht {year}: {figures['reactions']['count']} Reaktionen, "
               f"{figures['concerns']['count']} Anliegen; {path}")
