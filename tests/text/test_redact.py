"""Personal data never reaches what the models read; the text staff see stays whole."""
import pytest

from tests.conftest import TINY
from training.corpus import read_examples
from triage.classify.model import TriageModel
from triage.text.redact import redact

LETTER = """Sehr geehrte Frau Dr. Lehmann,

mein Name ist Olena Kowalenko, BG-Nummer 66720BG0150033. Mein Konto DE44 1001 1001 2625 1234 56
ist leer. Erreichbar bin ich unter 0176 23456789 oder olena.k@example.org.

Herrn
Pjotr Sawicki
Karl-Marx-Allee 105
10243 Berlin
geb. 14.08.1979, Kundennummer 281D033190

Mit freundlichen Grüßen

Olena Kowalenko"""


@pytest.mark.parametrize("secret", ["Lehmann", "Olena", "Kowalenko", "66720BG0150033", "DE44", "0176",
                                    "olena.k@example.org", "Sawicki", "Karl-Marx", "105", "10243", "Berlin",
                                    "14.08.1979", "281D033190"])
def test_personal_data_is_replaced(secret):
    assert secret not in redact(LETTER)


@pytest.mark.parametrize("kept", ["Sehr geehrte Damen und Herren,", "Die Frau am Schalter war unfreundlich.",
                                  "Am 01.12.2025 kamen nur 289,40 € an, Aktenzeichen 123/45.",
                                  "Ich und meine Frau\nWir haben Hunger.", "Viele Grüße\n\nich komme morgen.",
                                  "Ich habe 10000 Euro Schulden, die Räumung ist am 30.06.2025.",
                                  "Die Straße 5 Minuten weiter ist gesperrt.", "Auf dem Weg 3 Mal umgestiegen."])
def test_ordinary_text_is_left_alone(kept):
    assert redact(kept) == kept


def test_placeholders_reach_the_features_but_not_the_staff_text(analyzer):
    analysis = analyzer.analyse(LETTER, subject="Frage von Herrn Sawicki")
    for secret in ("lehmann", "kowalenko", "sawicki", "olena"):
        assert secret not in analysis.words and secret not in analysis.chars
    assert "#name" in analysis.words.split() and "#iban" in analysis.words.split()
    assert analysis.text.endswith("Olena Kowalenko")  # what staff read is untouched


def test_a_name_written_by_clients_stays_out_of_the_model(analyzer, taxonomy):
    examples = list(read_examples(TINY, taxonomy))
    texts = [f"{e.text}\n\nMit freundlichen Grüßen\nKasimir Wolkenstein" if i % 2 else
             f"Sehr geehrte Frau Wolkenstein,\n{e.text}" for i, e in enumerate(examples)]
    model = TriageModel(folds=2).fit([analyzer.analyse(t) for t in texts], [e.labels for e in examples], taxonomy)
    vocabulary = model.vectoriser_.named_transformers_["words"].vocabulary_
    assert "#name" in vocabulary and not {"wolkenstein", "kasimir"} & set(vocabulary)
    chars = model.vectoriser_.named_transformers_["chars"].vocabulary_
    assert not any("wolkenst" in gram for gram in chars)
