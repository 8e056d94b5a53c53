from triage.text.nlp import get_nlp, norm_of
from triage.text.normalize import clean, fold, restore_umlaut_candidates


def test_clean_keeps_german_letters_and_tidies_space():
    text = "Grüße\u00a0aus  Görlitz,\r\n\r\n\r\n\r\nStraße „Am Tor“\u200b – Ärger"
    assert clean(text) == 'Grüße aus Görlitz,\n\nStraße "Am Tor" - Ärger'


def test_fold_meets_spellings_without_umlauts():
    assert fold("Bürgergeld") == fold("Buergergeld") == fold("BÜRGERGELD") == "buergergeld"
    assert fold("Straße") == "strasse"


def test_umlauts_are_restored_for_lemma_lookup():
    assert "müsste" in restore_umlaut_candidates("muesste")
    assert norm_of("muesste") == norm_of("müsste")
    assert norm_of("Räumungsklagen") .startswith("raeumungsklage")


def test_abbreviations_expand_and_numbers_collapse():
    doc = get_nlp()("Mein WBA und die KdU vom 03.11.2025 über 412,50 €")
    norms = [t.norm_ for t in doc]
    assert "weiterbewilligungsantrag" in norms
    assert "kosten der unterkunft" in norms
    assert norms.count("#num") == 2
