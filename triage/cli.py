"""The `triage` command line: thin commands that parse arguments, call one library function
and format the result. Library errors become one line on stderr and a non-zero exit here.

The training commands import the `training` package (shipped beside `triage`) inside the
command, so the library itself never depends on it.
"""
from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

from .config import get_settings
from .errors import InputError, TriageError

app = typer.Typer(help="KRM-Triage: Kategorien, Dringlichkeit, Absender und Zuständigkeit für Kundenreaktionen.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
models_app = typer.Typer(help="Modellregister: Versionen anzeigen, aktivieren, zurückrollen.", no_args_is_help=True)
app.add_typer(models_app, name="models")
err = Console(stderr=True)

EXIT_ERROR = 1
EXIT_PARTIAL = 3  # a batch finished, but some input lines were bad (they are in the output)


class Format(StrEnum):
    text = "text"
    json = "json"


def _fail(exc: TriageError) -> typer.Exit:
    typer.echo(f"Fehler: {exc}", err=True)
    return typer.Exit(EXIT_ERROR)


def _registry():
    from .registry import Registry

    settings = get_settings()
    return Registry(settings.models_dir, settings.registry_key_path)


def _engine(version: str | None):
    import gc

    from .classify.engine import Engine

    engine = Engine.from_registry(_registry(), version)
    gc.collect()
    gc.freeze()  # the model lives as long as the command: keep it out of full collections
    return engine


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
        engine = _engine(model_version)
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
        raise _fail(exc) from exc


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
def train(
    data: Annotated[Path | None, typer.Option(help="Ordner oder Datei mit Trainingsdaten (.jsonl)")] = None,
    out: Annotated[str | None, typer.Option(help="Name der neuen Version")] = None,
    seed: Annotated[int | None, typer.Option(help="Zufallsstartwert")] = None,
    activate: Annotated[bool, typer.Option(help="neue Version gleich aktivieren")] = True,
) -> None:
    """Trainiert ein Modell und legt es als neue Version im Register ab.

    Beispiel: triage train --data training/corpus --out v1
    """
    from training.corpus import DEFAULT_CORPUS
    from training.train import train as run

    from .taxonomy import default_taxonomy

    try:
        version = run(default_taxonomy(), _registry(), data or DEFAULT_CORPUS, out, activate=activate,
                      seed=seed if seed is not None else get_settings().seed)
    except TriageError as exc:
        raise _fail(exc) from exc
    manifest = _registry().manifest(version)
    typer.echo(version)
    typer.echo(json.dumps(manifest["metrics"], ensure_ascii=False), err=True)


@app.command()
def evaluate(
    file: Annotated[Path, typer.Argument(help="gelabelte Nachrichten (.jsonl)")],
    format: Annotated[Format, typer.Option("--format", help="text oder json")] = Format.text,
    model_version: Annotated[str | None, typer.Option(help="Modellversion (Standard: aktive)")] = None,
) -> None:
    """Bewertet ein Modell auf gelabelten Nachrichten.

    Beispiel: triage evaluate ../shared/devset/devset.jsonl --format json
    """
    from training.corpus import read_examples
    from training.evaluate import evaluate as score
    from training.evaluate import format_report

    from .classify.engine import Message

    try:
        engine = _engine(model_version)
        examples = list(read_examples(file, engine.taxonomy))
        results = list(engine.classify_many(Message(e.text, e.subject, e.channel, e.id) for e in examples))
        metrics = score(results, [e.labels for e in examples], engine.taxonomy)
    except TriageError as exc:
        raise _fail(exc) from exc
    metrics["model_version"] = engine.version
    typer.echo(json.dumps(metrics, ensure_ascii=False, indent=1) if format is Format.json else format_report(metrics))


@models_app.command("list")
def models_list() -> None:
    """Listet alle Versionen. Beispiel: triage models list"""
    for info in _registry().versions():
        m = info.manifest
        typer.echo(f"{'*' if info.active else ' '} {info.version}  {m.get('created', '')}  {info.status}  "
                   f"{json.dumps(m.get('metrics', {}), ensure_ascii=False)}")


@models_app.command("show")
def models_show(version: Annotated[str, typer.Argument()]) -> None:
    """Zeigt das Manifest einer Version. Beispiel: triage models show 20261125-120000-ab12cd34"""
    try:
        typer.echo(json.dumps(_registry().manifest(version), ensure_ascii=False, indent=2))
    except TriageError as exc:
        raise _fail(exc) from exc


@models_app.command("promote")
def models_promote(version: Annotated[str, typer.Argument()]) -> None:
    """Prüft eine Version und setzt sie aktiv. Beispiel: triage models promote v2"""
    try:
        _registry().activate(version, reason="promote")
    except TriageError as exc:
        raise _fail(exc) from exc
    typer.echo(version)


@models_app.command("rollback")
def models_rollback() -> None:
    """Aktiviert wieder die vorher aktive Version. Beispiel: triage models rollback"""
    try:
        typer.echo(_registry().rollback())
    except TriageError as exc:
        raise _fail(exc) from exc


from .cli_mailbox import mailbox_app  # noqa: E402

app.add_typer(mailbox_app, name="mailbox")
users_app = typer.Typer(help="Benutzer des Web-Dienstes.", no_args_is_help=True)
tokens_app = typer.Typer(help="API-Tokens für Maschinen.", no_args_is_help=True)
messages_app = typer.Typer(help="Gespeicherte Nachrichten: löschen (Datenschutz, Aufbewahrungsfrist).",
                           no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(messages_app, name="messages")

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Datenordner (Standard: TRIAGE_DATA_DIR oder ./data)")]
DatabaseUrl = Annotated[str | None, typer.Option("--database-url", help="SQLAlchemy-URL (Standard: SQLite)")]


def _settings(data_dir: Path | None, database_url: str | None):
    update = {k: v for k, v in (("data_dir", data_dir), ("database_url", database_url)) if v is not None}
    return get_settings().model_copy(update=update)


def _store_session(settings):
    from .store.db import migrate, session_scope

    url = settings.db_url()
    migrate(url)
    return session_scope(url)


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

    settings = _settings(data_dir, database_url)
    if data_dir is not None:
        os.environ["TRIAGE_DATA_DIR"] = str(data_dir)
    if database_url is not None:
        os.environ["TRIAGE_DATABASE_URL"] = database_url
    try:
        if demo:
            _first_start(settings)
    except TriageError as exc:
        raise _fail(exc) from exc
    host, port = host or settings.host, port or settings.port
    typer.echo(f"KRM-Triage läuft auf http://{host}:{port}/ (Strg+C beendet)", err=True)
    from api.server import run

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

    with _store_session(settings) as session:
        if not session.scalar(select(func.count(User.id))):
            password = create_user(session, "admin", "admin")
            typer.echo(f"Admin-Konto angelegt: Benutzer admin, einmaliges Passwort {password}", err=True)
        if session.scalar(select(func.count(Stored.id))):
            return
        engine = Engine.from_registry(_registry())
        demo_file = Path(__file__).parent / "data" / "demo.jsonl"
        for line in demo_file.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            result = engine.classify_many([Message(row["text"], row["subject"], row["channel"])])
            store_message(session, default_taxonomy(), text=row["text"], subject=row["subject"],
                          channel={"email": "E-Mail", "portal": "Online-Portal"}.get(row["channel"], "E-Mail"),
                          result=next(result).as_dict(), idempotency_key=f"demo:{row['id']}", actor="demo")
        typer.echo("Demo-Nachrichten in die Warteschlange geladen", err=True)


def _print_secret(create, name: str, role: str, data_dir: Path | None, database_url: str | None) -> None:
    """Create a user or token in the configured store and print only its secret on stdout."""
    try:
        with _store_session(_settings(data_dir, database_url)) as session:
            secret = create(session, name, role)
    except TriageError as exc:
        raise _fail(exc) from exc
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



@app.command()
def retrain(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="nur bewerten, nichts speichern oder aktivieren")] = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    tolerance: Annotated[float, typer.Option(help="erlaubter Rückgang der Kennzahlen außer Recall")] = 0.02,
    force: Annotated[bool, typer.Option(help="auch ohne neue Prüfungen trainieren")] = False,
    corpus: Annotated[Path | None, typer.Option(help="Trainingskorpus (Standard: das mitgelieferte)")] = None,
) -> None:
    """Trainiert aus Korpus und geprüften Nachrichten neu; befördert nur, wenn nicht schlechter.

    Beispiel: triage retrain --dry-run --data-dir data
    """
    from training.corpus import DEFAULT_CORPUS
    from training.report import write_report
    from training.retrain import retrain as run_retrain

    from .taxonomy import default_taxonomy

    settings = _settings(data_dir, database_url)
    try:
        run = run_retrain(settings.db_url(), _registry(), default_taxonomy(), corpus=corpus or DEFAULT_CORPUS,
                          dry_run=dry_run, force=force, tolerance=tolerance, seed=settings.seed)
    except TriageError as exc:
        raise _fail(exc) from exc
    except Exception as exc:  # the database or the disk failed: say so, exit non-zero
        typer.echo(f"Fehler: Nachtraining nicht möglich: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(EXIT_ERROR) from exc
    typer.echo(f"{run.status}: {run.reason}")
    if run.metrics:
        report = write_report(run, Path(settings.data_dir) / "berichte")
        typer.echo(f"Bericht: {report}")


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
        with _store_session(_settings(data_dir, database_url)) as session:
            delete_message(session, message_id, actor="cli", reason=reason)
    except TriageError as exc:
        raise _fail(exc) from exc
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
        with _store_session(_settings(data_dir, database_url)) as session:
            count = purge_settled(session, closed_before=before, actor="cli", reason=reason)
    except TriageError as exc:
        raise _fail(exc) from exc
    typer.echo(f"{count} Nachrichten gelöscht (abgeschlossen vor {before:%Y-%m-%d})")


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
        engine = Engine.from_registry(_registry())
        with _store_session(_settings(data_dir, database_url)) as session, \
                Progress(console=err, transient=True, disable=len(messages) < 20) as progress:
            task = progress.add_task("Importiere", total=len(messages))
            for _source_id, raw in messages:
                _message, created, quarantined = store_mail(session, engine, raw, actor="import")
                counts["Quarantäne" if quarantined and created else "neu" if created else "schon da"] += 1
                progress.advance(task)
    except TriageError as exc:
        raise _fail(exc) from exc
    typer.echo(", ".join(f"{n} {k}" for k, n in counts.items()))


if __name__ == "__main__":
    app()
