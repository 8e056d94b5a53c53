from pathlib import Path

import pytest

from triage.errors import TaxonomyError
from triage.taxonomy import load_taxonomy

DEFAULT = Path(__file__).parents[1] / "triage" / "data" / "taxonomy.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tree.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_tree_follows_the_spec(taxonomy):
    assert len(taxonomy.codes) == 33
    assert taxonomy.unit_of("kommunal.umzug") == "leistungsbereich"
    assert taxonomy.unit_of("selbststaendige.einkommen") == "selbststaendigen_zentrum"
    assert taxonomy.unit_of("digital.online") == "krm"
    assert taxonomy.values("urgency") == ("existenzbedrohend", "zeitkritisch", "normal")
    assert taxonomy.crisis_unit == "ombudsstelle"


def test_duplicate_topic_is_named(tmp_path):
    text = DEFAULT.read_text(encoding="utf-8").replace("auszahlung = {", "bearbeitungsdauer = {", 1)
    with pytest.raises(TaxonomyError, match="doppelter Code leistung.bearbeitungsdauer") as info:
        load_taxonomy(write(tmp_path, text))
    assert info.value.code == "T002"


def test_unknown_routing_target_is_refused(tmp_path):
    text = DEFAULT.read_text(encoding="utf-8").replace('unit = "arbeitsvermittlung"', 'unit = "jobboerse"')
    with pytest.raises(TaxonomyError, match="unbekannte Stelle jobboerse") as info:
        load_taxonomy(write(tmp_path, text))
    assert info.value.code == "T003"


def test_missing_file_and_broken_toml(tmp_path):
    with pytest.raises(TaxonomyError, match="nicht lesbar"):
        load_taxonomy(tmp_path / "fehlt.toml")
    with pytest.raises(TaxonomyError, match="nicht lesbar"):
        load_taxonomy(write(tmp_path, "[areas\nfoo = "))


def test_invalid_code_and_missing_section(tmp_path):
    text = DEFAULT.read_text(encoding="utf-8").replace("[areas.digital]", "[areas.Digital-Kram]")
    with pytest.raises(TaxonomyError, match="kein gültiger Code"):
        load_taxonomy(write(tmp_path, text))
    with pytest.raises(TaxonomyError, match=r"\[units\] fehlt"):
        load_taxonomy(write(tmp_path, 'version = "x"\n[fields]\nart = ["lob"]\n'))


def test_a_deployment_can_add_and_retire_topics(tmp_path):
    text = DEFAULT.read_text(encoding="utf-8")
    text = text.replace('sonstiges = { name = "Sonstiges"',
                        'barrieren = { name = "Barrieren" }\nsonstiges = { name = "Sonstiges"')
    text = text.replace("\n[areas.digital.topics]\n", "\n[areas.digital.topics]\n# retired: \n", 1)
    tree = load_taxonomy(write(tmp_path, text))
    assert tree.has("sonstiges.barrieren") and tree.unit_of("sonstiges.barrieren") == "krm"
    assert len(tree.codes) == 34
