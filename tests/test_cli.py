"""The command line: documented forms, clear one-line errors, batches that keep going."""
import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import TINY
from triage.cli import app

runner = CliRunner()
README = Path(__file__).parents[1] / "README.md"


@pytest.fixture
def models(settings_env, tiny_registry):
    """A models folder with the tiny model active, signed with its own key."""
    shutil.copytree(tiny_registry.root, settings_env)
    return settings_env


def run(*args):
    return runner.invoke(app, list(args))


def test_classify_text_prints_json_labels(models):
    result = run("classify", "Mein Geld ist nicht gekommen und das Konto ist leer.")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data["labels"]) == {"concerns", "art", "urgency", "absender", "routing", "language"}
    assert data["model_version"] == "tiny"
    assert {"scores", "evidence", "needs_review"} <= set(data)


def test_classify_jsonl_batch_reports_bad_lines_and_keeps_the_good(models, tmp_path):
    batch = tmp_path / "in.jsonl"
    batch.write_text("\n".join([
        json.dumps({"id": "a", "text": "Die Hotline ist nie erreichbar."}),
        "{kein json",
        json.dumps({"id": "c", "text": "   "}),
        json.dumps({"id": "d", "subject": "Umzug", "text": "Das Exposé gilt nur bis Freitag."}),
    ]) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = run("classify", "--input", str(batch), "--output", str(out))
    assert result.exit_code == 3
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line.get("id") for line in lines] == ["a", None, "c", "d"]
    assert "labels" in lines[0] and "labels" in lines[3]
    assert "kein gültiges JSON" in lines[1]["error"] and "leer" in lines[2]["error"]
    assert "Zeile 2" in result.stderr and "Zeile 3" in result.stderr


def test_classify_eml_and_txt(models, tmp_path):
    eml = tmp_path / "m.eml"
    eml.write_bytes("Subject: =?utf-8?q?K=C3=BCndigung?=\nContent-Type: text/plain; charset=iso-8859-1\n"
                    "Content-Transfer-Encoding: 8bit\n\nDie R\xe4umungsklage ist da.\n".encode("latin-1"))
    assert run("classify", "--input", str(eml)).exit_code == 0
    txt = tmp_path / "m.txt"
    txt.write_text("Wo bleibt mein Geld?", encoding="utf-8")
    assert run("classify", "--input", str(txt), "--format", "text").exit_code == 0


@pytest.mark.parametrize(("args", "message"), [
    (["classify", "   "], "Leerer Text"),
    (["classify", "--input", "/nonexistent/x.txt"], "nicht lesbar"),
    (["classify", "--input", "README.pdf"], "Unbekanntes Eingabeformat"),
    (["classify"], "entweder TEXT oder --input"),
    (["classify", "Hallo", "--model-version", "gibtsnicht"], "gibt es im Register"),
])
def test_bad_input_gives_one_clear_line(models, args, message):
    result = run(*args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_no_model_yet_says_what_to_do(settings_env):
    result = run("classify", "Hallo")
    assert result.exit_code == 1 and "triage train" in result.stderr


def test_train_refuses_unknown_codes(settings_env, tmp_path):
    bad = tmp_path / "bad.jsonl"
    row = json.loads(TINY.read_text(encoding="utf-8").splitlines()[0])
    row["labels"]["concerns"] = ["leistung.zauberei"]
    bad.write_text(json.dumps(row) + "\n", encoding="utf-8")
    result = run("train", "--data", str(bad))
    assert result.exit_code == 1
    assert "unbekannter Code 'leistung.zauberei'" in result.stderr and "bad.jsonl:1" in result.stderr


def test_evaluate_and_models_commands(models):
    result = run("evaluate", str(TINY), "--format", "json")
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert {"area_macro_f1", "first_topic_accuracy", "concerns_micro_f1", "urgency", "confusion",
            "coverage_precision"} <= set(metrics)
    assert "tiny" in run("models", "list").stdout
    assert json.loads(run("models", "show", "tiny").stdout)["version"] == "tiny"


def test_every_command_is_documented_in_the_readme():
    readme = README.read_text(encoding="utf-8")
    commands = [c.name or c.callback.__name__ for c in app.registered_commands]
    commands += [f"{g.name} {c.name or c.callback.__name__.replace('_', '-')}"
                 for g in app.registered_groups for c in g.typer_instance.registered_commands]
    missing = [c for c in commands if not re.search(rf"triage {c}\b", readme)]
    assert not missing, f"README lacks: {missing}"


def test_messages_delete_and_purge(settings_env, tmp_path):
    store = ["--data-dir", str(tmp_path / "data")]
    missing = run("messages", "delete", "7", "--reason", "Löschantrag", *store)
    assert missing.exit_code == 1 and "Nachricht 7 gibt es nicht" in missing.output
    purged = run("messages", "purge", "--closed-days", "730", *store)
    assert purged.exit_code == 0 and "0 Nachrichten gelöscht" in purged.stdout


def test_retrain_without_new_reviews_is_no_error_and_failures_say_why(models, tmp_path):
    data = ["--data-dir", str(tmp_path / "data")]
    nothing_new = run("retrain", *data)
    assert nothing_new.exit_code == 0, nothing_new.output
    assert "keine neuen Prüfungen" in nothing_new.stdout
    unreachable = run("retrain", "--database-url", "postgresql+psycopg://krm:geheim@127.0.0.1:9/triage")
    assert unreachable.exit_code == 1 and "B001" in unreachable.stderr and "127.0.0.1:9" in unreachable.stderr
    assert "geheim" not in unreachable.output
    assert len(unreachable.stderr.strip().splitlines()) == 1 and "Traceback" not in unreachable.output


def test_retrain_without_a_model_in_service_says_what_to_do(settings_env, tmp_path):
    result = run("retrain", "--data-dir", str(tmp_path / "data"))
    assert result.exit_code == 1 and "triage train" in result.stderr
