"""The urgency, third-party and mediation rules: what fires, with which span and status."""
import pytest

from triage.classify.features import Analyzer

URGENCY = [
    # (sentence, rule, evidence text, status)
    ("Der Strom wird am Freitag abgestellt.", "energie_sperre", "Strom wird am Freitag abgestellt", "active"),
    ("Die Stadtwerke haben eine Stromsperre für den 12.03. angekündigt.", "energie_sperre", "Stromsperre", "active"),
    ("Wir haben eine fristlose Kündigung bekommen.", "wohnung_verlust", "fristlose Kündigung", "active"),
    ("Uns wurde fristlos gekündigt.", "wohnung_verlust", "fristlos gekündigt", "active"),
    ("Der Gerichtsvollzieher kommt am 14. um 9 Uhr.", "wohnung_verlust", "Gerichtsvollzieher", "active"),
    ("Mein Konto ist leer.", "kein_geld", "Konto ist leer", "active"),
    ("Ich will nicht mehr leben.", "suizid", "will nicht mehr leben", "active"),
    ("Der Kühlschrank ist seit Tagen leer.", "kein_essen", "Kühlschrank ist seit Tagen leer", "active"),
    # traps: negated, past, hypothetical or general
    ("Eine Sperre droht zum Glück nicht.", "drohung", "Sperre", "negated"),
    ("Ich habe keine Räumungsklage bekommen.", "wohnung_verlust", "Räumungsklage", "negated"),
    ("Letztes Jahr hatte ich eine Räumungsklage.", "wohnung_verlust", "Räumungsklage", "past"),
    ("Vor zwei Jahren waren wir kurz obdachlos.", "wohnung_verlust", "obdachlos", "past"),
    ("Die Stromsperre ist inzwischen aufgehoben.", "energie_sperre", "Stromsperre", "past"),
    ("Viele Leute verlieren ihre Wohnung und landen auf der Straße.", "wohnung_verlust", "auf der Straße",
     "hypothetical"),
    ("Wenn das so weitergeht, würde man uns den Strom abstellen.", "energie_sperre", "Strom abstellen", "hypothetical"),
]


@pytest.mark.parametrize(("sentence", "rule", "span", "status"), URGENCY)
def test_urgency_signal_and_context(analyzer: Analyzer, sentence, rule, span, status):
    found = analyzer.analyse(sentence).evidence["urgency"]
    match = [e for e in found if e.rule == rule]
    assert match, f"{rule} did not fire on {sentence!r}: {found}"
    assert match[0].text == span
    assert match[0].status == status
    assert sentence[match[0].start:match[0].end] == span


@pytest.mark.parametrize("sentence", [
    "Anbei die Stromrechnung vom letzten Jahr.",
    "Anbei die Nebenkostenabrechnung, es gibt 38 € Guthaben.",
    "Ich habe eine Frage zu meinem Bescheid.",
])
def test_mentioned_bills_raise_no_existence_signal(analyzer, sentence):
    active = [e for e in analyzer.analyse(sentence).active("urgency") if e.label == "existenzbedrohend"]
    assert active == []


def test_evidence_in_the_subject_is_marked(analyzer):
    analysis = analyzer.analyse("Bitte melden Sie sich.", subject="Stromsperre am Montag")
    e = next(e for e in analysis.evidence["urgency"] if e.rule == "energie_sperre")
    assert e.field == "subject" and "Stromsperre am Montag"[e.start:e.end] == e.text


@pytest.mark.parametrize(("sentence", "rule"), [
    ("Ich schreibe Ihnen im Auftrag meiner Klientin, Frau Aydin.", "beratung_klient"),
    ("Hiermit zeigen wir an, dass wir Herrn Weber anwaltlich vertreten; Vollmacht anbei.", "mandat"),
    ("Als gesetzliche Betreuerin von Herrn Kunz bitte ich um Rückruf.", "betreuung"),
    ("Ich schreibe für meine Mutter, sie kann nicht gut Deutsch.", "stellvertretend"),
])
def test_third_party_signals(analyzer, sentence, rule):
    assert rule in {e.rule for e in analyzer.analyse(sentence).active("absender")}


def test_mediation_and_any_answer_are_told_apart(analyzer):
    wants_new = analyzer.analyse("Ich bitte um einen neuen Ansprechpartner, Frau K. ist befangen.")
    assert {e.label for e in wants_new.active("mediation")} == {"vermittlung"}
    any_answer = analyzer.analyse("Meine Vermittlerin ist im Urlaub, gern auch eine Vertretung.")
    assert "kein_wechsel" in {e.label for e in any_answer.active("mediation")}
