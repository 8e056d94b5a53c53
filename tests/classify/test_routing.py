import pytest

from triage.classify.routing import route


@pytest.mark.parametrize(("concerns", "urgency", "absender", "mediation", "unit", "why"), [
    (["leistung.auszahlung"], "normal", "betroffen", False, "leistungsbereich", "Leistungsgewährung"),
    (["kommunal.umzug"], "zeitkritisch", "betroffen", False, "leistungsbereich", "Kommunale"),
    (["vermittlung.massnahme"], "normal", "betroffen", False, "arbeitsvermittlung", "Arbeitsvermittlung"),
    (["selbststaendige.einkommen"], "normal", "betroffen", False, "selbststaendigen_zentrum", "Selbständigen"),
    (["service_center.erreichbarkeit"], "normal", "betroffen", False, "krm", "Service-Center"),
    (["digital.online", "leistung.auszahlung"], "normal", "betroffen", False, "krm", "digital"),
    # rule 1: third parties, existence threats and mediation requests go to the Ombudsstelle
    (["kommunal.unterkunft"], "normal", "dritte", False, "ombudsstelle", "Dritte"),
    (["leistung.auszahlung"], "existenzbedrohend", "betroffen", False, "ombudsstelle", "existenzbedrohend"),
    (["vermittlung.arbeitsbeziehung"], "normal", "betroffen", True, "ombudsstelle", "Vermittlung"),
    (["sonstiges.sonstiges"], "existenzbedrohend", "dritte", True, "ombudsstelle", "existenzbedrohend"),
])
def test_routing_rules(taxonomy, concerns, urgency, absender, mediation, unit, why):
    got, reason = route(taxonomy, concerns, urgency, absender, mediation)
    assert got == unit
    assert why in reason
