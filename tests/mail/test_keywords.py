"""Labels ↔ IMAP keywords: a small fixed set, built from the tree, readable back."""
from __future__ import annotations

import re
from dataclasses import replace

import pytest

from triage.errors import MailboxError
from triage.mail.keywords import (
    area_from_keywords,
    build_scheme,
    keywords_for,
    ours,
    unit_from_keywords,
    urgency_from_keywords,
)

ATOM = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")


def test_keyword_scheme_is_small_fixed_and_built_from_the_tree(taxonomy) -> None:
    scheme = build_scheme(taxonomy)
    levels = taxonomy.values("urgency")
    assert set(scheme.areas) == set(taxonomy.areas)
    assert set(scheme.units) == set(taxonomy.units)
    assert set(scheme.urgencies) == set(levels[:-1])  # none for the usual level
    assert len(scheme.all) == len(taxonomy.areas) + len(levels) - 1 + len(taxonomy.units) + 2
    assert 12 <= len(scheme.all) <= 25
    assert all(ATOM.match(k) and k.startswith("KRM_") for k in scheme.all)
    assert {"KRM_leistung", "KRM_existenzbedrohend", "KRM_an_ombudsstelle", "KRM_pruefen",
            "KRM_quarantaene"} <= scheme.all


def test_keyword_prefix_is_configurable_and_checked(taxonomy) -> None:
    assert all(k.startswith("JC_") for k in build_scheme(taxonomy, "JC_").all)
    for bad in ("", "1KRM", "KRM (", "KRM\\", "K R M"):
        with pytest.raises(MailboxError) as caught:
            build_scheme(taxonomy, bad)
        assert caught.value.code == "M209"


def test_keyword_collision_between_groups_is_refused(taxonomy) -> None:
    clash = replace(taxonomy, fields={**taxonomy.fields, "urgency": ("leistung", "normal")})
    with pytest.raises(MailboxError) as caught:
        build_scheme(clash)
    assert caught.value.code == "M209"


@pytest.mark.parametrize(("labels", "needs_review", "expected"), [
    ({"concerns": ["leistung.auszahlung"], "urgency": "existenzbedrohend", "routing": "ombudsstelle"}, False,
     {"KRM_leistung", "KRM_existenzbedrohend", "KRM_an_ombudsstelle"}),
    ({"concerns": ["kommunal.umzug", "leistung.bescheid"], "urgency": "normal", "routing": "leistungsbereich"}, True,
     {"KRM_kommunal", "KRM_an_leistungsbereich", "KRM_pruefen"}),
    ({"concerns": ["service_center.erreichbarkeit"], "urgency": "zeitkritisch", "routing": "krm"}, False,
     {"KRM_service_center", "KRM_zeitkritisch", "KRM_an_krm"}),
])
def test_keywords_for_labels_one_per_group(taxonomy, labels, needs_review, expected) -> None:
    scheme = build_scheme(taxonomy)
    assert keywords_for(scheme, taxonomy, labels, needs_review) == expected


def test_keywords_for_quarantine(taxonomy) -> None:
    scheme = build_scheme(taxonomy)
    labels = {"concerns": ["sonstiges.sonstiges"], "urgency": "normal", "routing": "krm"}
    assert keywords_for(scheme, taxonomy, labels, True, quarantined=True) == {
        "KRM_sonstiges", "KRM_an_krm", "KRM_pruefen", "KRM_quarantaene"}


def test_ours_keeps_only_our_keywords_in_our_spelling(taxonomy) -> None:
    scheme = build_scheme(taxonomy)
    flags = {"\\Seen", "$Junk", "krm_an_krm", "KRM_leistung", "Anderes_Team"}
    assert ours(scheme, flags) == {"KRM_an_krm", "KRM_leistung"}


def test_reverse_mapping_reads_unit_area_and_urgency(taxonomy) -> None:
    scheme = build_scheme(taxonomy)
    flags = {"\\Seen", "KRM_vermittlung", "KRM_zeitkritisch", "KRM_an_arbeitsvermittlung"}
    assert unit_from_keywords(scheme, flags) == "arbeitsvermittlung"
    assert area_from_keywords(scheme, flags) == "vermittlung"
    assert urgency_from_keywords(scheme, taxonomy, flags) == "zeitkritisch"
    assert urgency_from_keywords(scheme, taxonomy, {"KRM_an_krm"}) == "normal"
    assert unit_from_keywords(scheme, {"\\Seen"}) is None
    assert unit_from_keywords(scheme, {"KRM_an_krm", "KRM_an_ombudsstelle"}) is None  # ambiguous


def test_keywords_round_trip_for_every_unit_and_area(taxonomy) -> None:
    scheme = build_scheme(taxonomy)
    for code in taxonomy.codes:
        unit = taxonomy.unit_of(code)
        flags = keywords_for(scheme, taxonomy, {"concerns": [code], "urgency": "normal", "routing": unit}, False)
        assert unit_from_keywords(scheme, flags) == unit
        assert area_from_keywords(scheme, flags) == taxonomy.area_of(code)


def test_keywords_public_names() -> None:
    from triage.mail import keywords

    assert keywords.__all__ == ["KeywordScheme", "build_scheme", "keywords_for", "ours", "unit_from_keywords",
                                "area_from_keywords", "urgency_from_keywords", "DEFAULT_PREFIX"]
