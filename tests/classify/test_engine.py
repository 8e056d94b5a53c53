"""The engine end to end: shape of a result, errors, and behaviour of the default model on
clear cases, the urgency traps among them (sentences written for these tests)."""
import dataclasses

import pytest

from triage.classify.engine import Engine, Message
from triage.errors import InputError


def test_result_shape_and_tree_consistency(tiny_engine, taxonomy):
    result = tiny_engine.classify("Die Hotline ist nie erreichbar.", subject="Beschwerde").as_dict()
    labels = result["labels"]
    assert 1 <= len(labels["concerns"]) <= taxonomy.max_concerns
    assert all(taxonomy.has(c) for c in labels["concerns"])
    assert labels["urgency"] in taxonomy.values("urgency") and labels["routing"] in taxonomy.units
    assert labels["concerns"][0] == max(result["scores"]["concerns"], key=result["scores"]["concerns"].get)
    assert abs(sum(result["scores"]["urgency"].values()) - 1) < 1e-3
    assert result["routing_reason"] and result["model_version"] == "tiny"


def test_empty_message_is_refused(tiny_engine):
    with pytest.raises(InputError, match="Leerer Text"):
        tiny_engine.classify("  \n ")


def test_batches_keep_order_and_ids(tiny_engine):
    messages = [Message(f"Nachricht {i}: wo bleibt mein Geld?", id=f"m{i}") for i in range(600)]
    assert [r.id for r in tiny_engine.classify_many(messages, batch_size=256)] == [m.id for m in messages]


def test_retired_topics_are_never_suggested(tiny_engine, taxonomy):
    retired = dataclasses.replace(taxonomy, topics=tuple(t for t in taxonomy.topics if t.code != "digital.online"),
                                  _by_code={t.code: t for t in taxonomy.topics if t.code != "digital.online"})
    engine = Engine(tiny_engine.model, "tiny", retired, tiny_engine.analyzer)
    result = engine.classify("Der Upload bei Jobcenter digital bricht ab, ich kann nichts hochladen.")
    assert "digital.online" not in result.labels["concerns"]
    assert "digital.online" not in result.scores["concerns"]


CRISES = [
    "Heute ist der 5. und vom Jobcenter ist nichts gekommen. Ich habe noch 1,80 Euro und meine Tochter hat "
    "seit gestern nichts Richtiges gegessen.",
    "Die Stadtwerke stellen uns am Donnerstag den Strom ab, weil der Abschlag seit zwei Monaten fehlt. "
    "Wir haben ein Baby.",
    "Morgen um 10 Uhr ist der Räumungstermin, der Gerichtsvollzieher hat es bestätigt. Wo sollen wir hin?",
    "ich kann nicht mehr. wenn das geld nicht kommt mach ich schluss, ich hab keine kraft mehr",
]
TRAPS = [
    "Letztes Jahr hatte ich eine Räumungsklage, das ist zum Glück lange vorbei. Heute frage ich nur, "
    "wann der neue Bescheid kommt.",
    "Eine Stromsperre droht uns zum Glück nicht, ich möchte nur wissen, ob die Nachzahlung von 84 Euro "
    "übernommen wird. Anbei die Abrechnung.",
    "Viele Leute in meinem Haus haben Angst, ihre Wohnung zu verlieren. Ich wollte fragen, ob es "
    "Informationsabende zu den Mietobergrenzen gibt.",
]


@pytest.mark.parametrize("text", CRISES)
def test_crises_are_existence_threatening_with_evidence(corpus_engine, text):
    result = corpus_engine.classify(text)
    assert result.labels["urgency"] == "existenzbedrohend"
    assert result.labels["routing"] == "ombudsstelle"


def test_crisis_evidence_points_into_the_text(corpus_engine):
    text = "Die Stadtwerke stellen am Freitag den Strom ab. Mein Konto ist leer."
    result = corpus_engine.classify(text)
    spans = result.evidence["urgency"]
    assert spans and all(text[e["start"]:e["end"]] == e["text"] for e in spans)


@pytest.mark.parametrize("text", TRAPS)
def test_traps_are_not_existence_threatening(corpus_engine, text):
    assert corpus_engine.classify(text).labels["urgency"] != "existenzbedrohend"


def test_third_party_and_mediation_go_to_the_ombudsstelle(corpus_engine):
    advocate = corpus_engine.classify(
        "Sehr geehrte Damen und Herren, ich bin Schuldnerberaterin bei der Caritas und schreibe mit "
        "Einverständnis meiner Klientin, Frau Ilić. Ihr Antrag auf Übernahme der Nebenkostennachzahlung "
        "wurde abgelehnt, obwohl die Unterlagen vollständig sind.")
    assert advocate.labels["absender"] == "dritte" and advocate.labels["routing"] == "ombudsstelle"
    conflict = corpus_engine.classify(
        "Mit meinem Arbeitsvermittler Herrn Brockmann geht es nicht mehr. Er ist mir gegenüber voreingenommen "
        "und hört nicht zu. Ich bitte um eine neue Ansprechperson und ein vermittelndes Gespräch.")
    assert conflict.labels["routing"] == "ombudsstelle"


def test_anyone_can_answer_stays_with_the_unit(corpus_engine):
    result = corpus_engine.classify(
        "Hallo, meine Arbeitsvermittlerin ist wohl im Urlaub. Ich brauche bis nächste Woche eine Antwort, "
        "ob der Sprachkurs bewilligt wird, gern auch von einer Vertretung oder irgendjemandem.")
    assert result.labels["routing"] == "arbeitsvermittlung"
