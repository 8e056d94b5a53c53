"""`triage train`, `evaluate`, `retrain` and `triage models`: building, judging and switching
model versions. The training package is imported inside the commands, so the library itself
never depends on it. The main app registers `train`, `evaluate` and `retrain` and adds
`models_app` (see cli.py)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from .cli_common import EXIT_ERROR, DatabaseUrl, DataDir, Format, fail, load_engine, registry, settings_for
from .config import get_settings
from .errors import TriageError

__all__ = ["models_app", "train", "evaluate", "retrain"]

models_app = typer.Typer(help="Modellregister: Versionen anzeigen, aktivieren, zurückrollen.", no_args_is_help=True)


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
        version = run(default_taxonomy(), registry(), data or DEFAULT_CORPUS, out, activate=activate,
                      seed=seed if seed is not None else get_settings().seed)
    except TriageError as exc:
        raise fail(exc) from exc
    manifest = registry().manifest(version)
    typer.echo(version)
    typer.echo(json.dumps(manifest["metrics"], ensure_ascii=False), err=True)


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
        engine = load_engine(model_version)
        examples = list(read_examples(file, engine.taxonomy))
        results = list(engine.classify_many(Message(e.text, e.subject, e.channel, e.id) for e in examples))
        metrics = score(results, [e.labels for e in examples], engine.taxonomy)
    except TriageError as exc:
        raise fail(exc) from exc
    metrics["model_version"] = engine.version
    typer.echo(json.dumps(metrics, ensure_ascii=False, indent=1) if format is Format.json else format_report(metrics))


@models_app.command("list")
def models_list() -> None:
    """Listet alle Versionen. Beispiel: triage models list"""
    for info in registry().versions():
        m = info.manifest
        typer.echo(f"{'*' if info.active else ' '} {info.version}  {m.get('created', '')}  {info.status}  "
                   f"{json.dumps(m.get('metrics', {}), ensure_ascii=False)}")


@models_app.command("show")
def models_show(version: Annotated[str, typer.Argument()]) -> None:
    """Zeigt das Manifest einer Version. Beispiel: triage models show 20261125-120000-ab12cd34"""
    try:
        typer.echo(json.dumps(registry().manifest(version), ensure_ascii=False, indent=2))
    except TriageError as exc:
        raise fail(exc) from exc


@models_app.command("promote")
def models_promote(version: Annotated[str, typer.Argument()]) -> None:
    """Prüft eine Version und setzt sie aktiv. Beispiel: triage models promote v2"""
    try:
        registry().activate(version, reason="promote")
    except TriageError as exc:
        raise fail(exc) from exc
    typer.echo(version)


@models_app.command("rollback")
def models_rollback() -> None:
    """Aktiviert wieder die vorher aktive Version. Beispiel: triage models rollback"""
    try:
        typer.echo(registry().rollback())
    except TriageError as exc:
        raise fail(exc) from exc



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

    settings = settings_for(data_dir, database_url)
    try:
        run = run_retrain(settings.db_url(), registry(), default_taxonomy(), corpus=corpus or DEFAULT_CORPUS,
                          dry_run=dry_run, force=force, tolerance=tolerance, seed=settings.seed)
    except TriageError as exc:
        raise fail(exc) from exc
    except Exception as exc:  # the database or the disk failed: say so, exit non-zero
        typer.echo(f"Fehler: Nachtraining nicht möglich: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(EXIT_ERROR) from exc
    typer.echo(f"{run.status}: {run.reason}")
    if run.metrics:
        report = write_report(run, settings.reports_dir)
        typer.echo(f"Bericht: {report}")
