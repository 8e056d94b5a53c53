"""The `triage` command line: thin commands that parse arguments, call one library function
and format the result. Library errors become one line on stderr and a non-zero exit.

This module holds the commands for messages (`classify`, `import`) and the service (`serve`)
and assembles the app; the others live beside it: models and training in cli_models.py, users,
tokens and deletion in cli_store.py, the mailbox in cli_mailbox.py, shared options in cli_common.py.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from .cli_common import (
    EXIT_PARTIAL,
    DatabaseUrl,
    DataDir,
    Format,
    err,
    fail,
    load_engine,
    registry,
    settings_for,
    store_session,
)
from .cli_mailbox import mailbox_app
from .cli_models import evaluate, models_app, retrain, train
from .cli_store import messages_app, report, tokens_app, users_app
from .errors import InputError, TriageError

app = typer.Typer(help="KRM-Triage: Kategorien, Dringlichkeit, Absender und Zuständigkeit für Kundenreaktionen.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return path.read_bytes().decode("windows-1252", errors="replace")
    except OSError as exc:
        raise InputError("I002", path=path, reason=exc.strerror or str(exc)) from exc


def _parse_line(line: str, number: int):
    """(Message, None) for a good JSONL line, (None, error record) for a bad one."""
    from .classify.engine import Message

    try:
        row = json.loads(line)
    except ValueError as exc:
        return None, {"id": None, "line": number, "error": f"kein gültiges JSON ({exc.msg})"}
    if not isinstance(row, dict):
        return None, {"id": None, "line": number, "error": "Zeile ist kein JSON-Objekt"}
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        return None, {"id": row.get("id"), "line": number, "error": "text fehlt oder ist leer"}
    return Message(text, str(row.get("subject") or ""), str(row.get("channel") or ""), str(row.get("id", number))), None


def _classify_batch(engine, path: Path, output: Path | None, fmt: Format = Format.json) -> int:
    """One output line per input line, in order; bad lines get an error record and are reported."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            parsed = [_parse_line(line, n) for n, line in enumerate(handle, 1) if line.strip()]
    except OSError as exc:
        raise InputError("I002", path=path, reason=exc.strerror or str(exc)) from exc
    good = [message for message, _ in parsed if message is not None]
    results = []
    with Progress(console=err, transient=True, disable=len(good) < 200) as progress:
        task = progress.add_task("Klassifiziere", total=len(good))
        for result in engine.classify_many(good):
            results.append(result.as_dict())
            progress.advance(task)
    answers = iter(results)
    records = [next(answers) if message is not None else error for message, error in parsed]
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    if output:
        output.write_text(lines, encoding="utf-8")
    elif fmt is Format.text:
        for record in records:
            typer.echo(f"\n== {record.get('id')}")
            if "error" in record:
                typer.echo(f"Fehler: {record['error']}")
            else:
                _print_result(record, fmt)
    else:
        sys.stdout.write(lines)
    bad = [error for message, error in parsed if message is None]
    for e in bad:
        typer.echo(f"{path}, Zeile {e['line']}: {e['error']}", err=True)
    if bad:
        typer.echo(f"{len(good)} klassifiziert, {len(bad)} fehlerhafte Zeilen", err=True)
        return EXIT_PARTIAL
    return 0


def _print_result(result: dict, fmt: Format) -> None:
    if fmt is Format.json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    labels = result["labels"]
    typer.echo(f"Anliegen:      {', '.join(labels['concerns'])}")
    typer.echo(f"Art:           {labels['art']}")
    typer.echo(f"Dringlichkeit: {labels['urgency']}"
               + "".join(f"  «{e['text']}»" for e in result["evidence"]["urgency"]))
    typer.echo(f"Absender:      {labels['absender']}")
    typer.echo(f"Zuständig:     {labels['routing']} ({result['routing_reason']})")
    typer.echo(f"Sprache:       {labels['language']}")
    if result["needs_review"]:
        typer.echo(f"Prüfen:        {', '.join(result['review_reasons'])}")


@app.command()
def classify(
    text: Annotated[str | None, typer.Argument(help="Text der Nachricht")] = None,
    input: Annotated[Path | None, typer.Option("--input", "-i", help=".txt, .eml oder .jsonl")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Ausgabe (.jsonl) für Stapel")] = None,
    subject: Annotated[str, typer.Option(help="Betreff")] = "",
    format: Annotated[Format, typer.Option("--format", help="text oder json")] = Format.json,
    model_version: Annotated[str | None, typer.Option(help="Modellversion (Standard: aktive)")] = None,
) -> None:
    """Klassifiziert eine Nachricht oder einen Stapel.

    Beispiele: triage classify "Seit dem 1. ist kein Geld gekommen, mein Konto ist leer."
               triage classify --input posteingang.jsonl --output vorschlaege.jsonl
    """
    try:
        if (text is None) == (input is None):
            raise InputError("I005")
        engine = load_engine(model_version)
        if input is not None and input.suffix.lower() == ".jsonl":
            raise typer.Exit(_classify_batch(engine, input, output, format))
        if input is not None:
            subject, text = _single_input(input, subject)
        result = engine.classify(text or "", subject).as_dict()
        if output:
            output.write_text(json.dumps(result, ensure_ascii=False) + "\n", encoding="utf-8")
        else:
            _print_result(result, format)
    except TriageError as exc:
        raise fail(exc) from exc


def _single_input(path: Path, subject: str) -> tuple[str, str]:
    suffix = path.suffix.lower()
    if suffix == ".txt":
        return subject, _read_text(path)
    if suffix == ".eml":
        from .mail.parse import parse_bytes

        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise InputError("I002", path=path, reason=exc.strerror or str(exc)) from exc
        mail = parse_bytes(raw)
        return subject or mail.subject, mail.new_text or mail.text
    raise InputError("I004", suffix=suffix or "(ohne Endung)")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Adresse (Standard 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (Standard 8000)")] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    workers: Annotated[int, typer.Option(help="Anzahl Prozesse")] = 1,
    demo: Annotated[bool, typer.Option(help="Admin-Konto und Demo-Nachrichten anlegen, falls leer")] = False,
) -> None:
    """Startet den Web-Dienst (REST-API und Oberfläche für Mitarbeitende).

    Beispiel: triage serve --port 8000 --data-dir data
    """
    import os

    settings = settings_for(data_dir, database_url)
    if data_dir is not None:
        os.environ["TRIAGE_DATA_DIR"] = str(data_dir)
    if database_url is not None:
        os.environ["TRIAGE_DATABASE_URL"] = database_url
    from api.server import prepare, run

    try:
        if demo:
            _first_start(settings)
        prepare(settings)  # the store's schema, before the first worker starts
    except TriageError as exc:
        raise fail(exc) from exc
    host, port = host or settings.host, port or settings.port
    typer.echo(f"KRM-Triage läuft auf http://{host}:{port}/ (Strg+C beendet)", err=True)
    run(settings, host, port, workers)


def _first_start(settings) -> None:
    """On an empty store: an admin account (one-time password printed) and the demo messages."""
    from sqlalchemy import func, select

    from .classify.engine import Engine, Message
    from .store.messages import store_message
    from .store.tables import Message as Stored
    from .store.tables import User
    from .store.users import create_user
    from .taxonomy import default_taxonomy

    with store_session(settings) as session:
        if not session.scalar(select(func.count(User.id))):
            password = create_user(session, "admin", "admin")
            typer.echo(f"Admin-Konto angelegt: Benutzer admin, einmaliges Passwort {password}", err=True)
        if session.scalar(select(func.count(Stored.id))):
            return
        engine = Engine.from_registry(registry())
        demo_file = Path(__file__).parent / "data" / "demo.jsonl"
        for line in demo_file.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            result = engine.classify_many([Message(row["text"], row["subject"], row["channel"])])
            store_message(session, default_taxonomy(), text=row["text"], subject=row["subject"],
                          channel={"email": "E-Mail", "portal": "Online-Portal"}.get(row["channel"], "E-Mail"),
                          result=next(result).as_dict(), idempotency_key=f"demo:{row['id']}", actor="demo")
        typer.echo("Demo-Nachrichten in die Warteschlange geladen", err=True)


@app.command("import")
def import_mail(
    path: Annotated[Path, typer.Argument(help=".eml-Datei, mbox-Datei oder Maildir-Ordner")],
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Lädt E-Mails (.eml, mbox, Maildir) in den Speicher und klassifiziert sie.

    Beispiel: triage import posteingang.mbox --data-dir data
    """
    from .classify.engine import Engine
    from .mail.intake import store_mail
    from .mail.sources import iter_source

    counts = {"neu": 0, "schon da": 0, "Quarantäne": 0}
    try:
        messages = list(iter_source(path))
        engine = Engine.from_registry(registry())
        with store_session(settings_for(data_dir, database_url)) as session, \
                Progress(console=err, transient=True, disable=len(messages) < 20) as progress:
            task = progress.add_task("Importiere", total=len(messages))
            for _source_id, raw in messages:
                _message, created, quarantined = store_mail(session, engine, raw, actor="import")
                counts["Quarantäne" if quarantined and created else "neu" if created else "schon da"] += 1
                progress.advance(task)
    except TriageError as exc:
        raise fail(exc) from exc
    typer.echo(", ".join(f"{n} {k}" for k, n in counts.items()))


for name, sub in (("models", models_app), ("mailbox", mailbox_app), ("users", users_app),
                  ("tokens", tokens_app), ("messages", messages_app)):
    app.add_typer(sub, name=name)
for command in (train, evaluate, retrain, report):
    app.command()(command)

if __name__ == "__main__":
    app()
