"""Splitting new text, quoted history and signature, on tiny bodies written out in full."""
from __future__ import annotations

import pytest

from triage.errors import MailError
from triage.mail.quotes import DEFAULT_MARKERS, is_forward_subject, load_markers, split_reply

ATTRIBUTION = "Am 03.02.2025 um 09:14 schrieb Jobcenter Musterstadt <post@jc.example>:"
OUTLOOK = "Von: Jobcenter Musterstadt\nGesendet: Montag, 3. Februar 2025 09:14\nAn: Max Beispiel\nBetreff: Bescheid"
LONG = ("Ich schreibe Ihnen, weil ich seit dem Umzug im Dezember keine Leistungen mehr bekomme. Die Vermieterin "
        "droht mit Kündigung, und meine Nachrichten an die Sachbearbeitung bleiben seit Wochen ohne Antwort.")


@pytest.mark.parametrize(("text", "new", "quoted", "signature"), [
    # quotes and reply headers
    ("Das stimmt nicht.\n> Alter Text\n> noch alt", "Das stimmt nicht.", "> Alter Text\n> noch alt", ""),
    (f"Bitte antworten.\n\n{ATTRIBUTION}\n> Frage", "Bitte antworten.", f"{ATTRIBUTION}\n> Frage", ""),
    ("Bitte antworten.\nAm 03.02.2025 um 09:14\nschrieb Jobcenter Musterstadt <post@jc.example>:\n> Frage",
     "Bitte antworten.", "Am 03.02.2025 um 09:14\nschrieb Jobcenter Musterstadt <post@jc.example>:\n> Frage", ""),
    (f"Neu.\n{ATTRIBUTION}\nAlter Text ohne Zeichen", "Neu.", f"{ATTRIBUTION}\nAlter Text ohne Zeichen", ""),
    (f"{ATTRIBUTION}\n> Frage?\n\nMeine Antwort unten.", "Meine Antwort unten.", f"{ATTRIBUTION}\n> Frage?", ""),
    ("Danke.\nOn Mon, Feb 3, 2025 at 9:14 AM Jobcenter <post@jc.example> wrote:\n> Q", "Danke.",
     "On Mon, Feb 3, 2025 at 9:14 AM Jobcenter <post@jc.example> wrote:\n> Q", ""),
    ("Neu.\nJobcenter Musterstadt <post@jc.example> schrieb:\n> alt", "Neu.",
     "Jobcenter Musterstadt <post@jc.example> schrieb:\n> alt", ""),
    ("Neu.\n-----Ursprüngliche Nachricht-----\nVon: Amt\nAlt", "Neu.",
     "-----Ursprüngliche Nachricht-----\nVon: Amt\nAlt", ""),
    ("New.\n-----Original Message-----\nFrom: Office\nOld", "New.",
     "-----Original Message-----\nFrom: Office\nOld", ""),
    (f"Neu.\n\n{OUTLOOK}\n\nAlt", "Neu.", f"{OUTLOOK}\n\nAlt", ""),
    ("Neu.\nFrom: Office\nSent: Monday\nTo: Max\nSubject: Notice\n\nOld", "Neu.",
     "From: Office\nSent: Monday\nTo: Max\nSubject: Notice\n\nOld", ""),
    ("Neu.\nVon: Amt Gesendet: Montag, 3. Februar 2025 An: Max Betreff: Bescheid Alt", "Neu.",
     "Von: Amt Gesendet: Montag, 3. Februar 2025 An: Max Betreff: Bescheid Alt", ""),
    ("Neu.\n________________________________\n" + OUTLOOK, "Neu.", "________________________________\n" + OUTLOOK, ""),
    ("Neu.\r\n> alt\r\n", "Neu.", "> alt", ""),
    # what only looks like history stays new text
    ("Am Montag schrieb mir Frau Beispiel:\nSie bekommen nichts.", "Am Montag schrieb mir Frau Beispiel:\n"
     "Sie bekommen nichts.", "", ""),
    ("Von: meiner Nachbarin weiß ich, dass es anders geht.\nBetreff: Miete", "Von: meiner Nachbarin weiß ich, dass "
     "es anders geht.\nBetreff: Miete", "", ""),
    # signatures
    ("Text.\n-- \nMax Beispiel\nTel 0123", "Text.", "", "--\nMax Beispiel\nTel 0123"),
    ("Text.\n\nMit freundlichen Grüßen\nMax Beispiel\nMusterweg 3\n01234 Musterstadt",
     "Text.\n\nMit freundlichen Grüßen", "", "Max Beispiel\nMusterweg 3\n01234 Musterstadt"),
    ("Text.\nMit freundlichem Gruß\n\nM. Beispiel", "Text.\nMit freundlichem Gruß", "", "M. Beispiel"),
    ("Text.\nMfG\nM. Beispiel", "Text.\nMfG", "", "M. Beispiel"),
    ("Text.\nViele Grüße\nAnna", "Text.\nViele Grüße", "", "Anna"),
    ("Text.\nLG\nTom", "Text.\nLG", "", "Tom"),
    ("Text.\nViele Grüße, Anna", "Text.\nViele Grüße, Anna", "", ""),
    ("Text.\nViele Grüße\nAnna\n\nPS: Der Bescheid fehlt auch.", "Text.\nViele Grüße\n\nPS: Der Bescheid fehlt auch.",
     "", "Anna"),
    (f"Mit freundlichen Grüßen\n{LONG}", f"Mit freundlichen Grüßen\n{LONG}", "", ""),
    ("Text.\n\nVon meinem iPhone gesendet", "Text.", "", "Von meinem iPhone gesendet"),
    ("Text.\nSent from my Pixel", "Text.", "", "Sent from my Pixel"),
    ("Text.\nGesendet mit der WEB.DE Mail App", "Text.", "", "Gesendet mit der WEB.DE Mail App"),
    ("Text.\nDiese E-Mail kann vertrauliche Informationen enthalten.\nWenn Sie nicht der richtige Adressat sind, ...",
     "Text.", "", "Diese E-Mail kann vertrauliche Informationen enthalten.\n"
     "Wenn Sie nicht der richtige Adressat sind, ..."),
    ("Diese E-Mail enthält vertrauliche Angaben zu meiner Krankheit.", "Diese E-Mail enthält vertrauliche Angaben "
     "zu meiner Krankheit.", "", ""),
    (f"Text.\nGruß\nMax\n\n{ATTRIBUTION}\n> Frage", "Text.\nGruß", f"{ATTRIBUTION}\n> Frage", "Max"),
    ("", "", "", ""),
    # history with nothing above it is all there is to read
    ("Von: Max Beispiel, Musterweg 3\nAn: Jobcenter Musterstadt\nBetreff: Widerspruch\n\nIch widerspreche.",
     "Ich widerspreche.", "Von: Max Beispiel, Musterweg 3\nAn: Jobcenter Musterstadt\nBetreff: Widerspruch", ""),
    ("-----Original Message-----\nFrom: Office\n\nOld", "Old", "-----Original Message-----\nFrom: Office", ""),
    ("> nur zitiert", "", "> nur zitiert", ""),
])
def test_split_reply(text, new, quoted, signature):
    assert split_reply(text) == (new, quoted, signature)


FORWARD_HEAD = ("---------- Forwarded message ---------\nFrom: Mia Beispiel <mia@example.com>\n"
                "Date: Sun, Feb 2, 2025 at 7:40 PM\nSubject: Hilfe\nTo: Beratung <info@beratung.example>")


@pytest.mark.parametrize(("text", "new", "quoted", "signature"), [
    (f"FYI\n\n{FORWARD_HEAD}\n\nMein Antrag ist weg.\n\nViele Grüße\nMia", "FYI\n\nMein Antrag ist weg.\n\nViele Grüße",
     FORWARD_HEAD, "Mia"),
    ("-------- Weitergeleitete Nachricht --------\nBetreff: Hilfe\n\nMein Antrag ist weg.", "Mein Antrag ist weg.",
     "-------- Weitergeleitete Nachricht --------\nBetreff: Hilfe", ""),
    ("Begin forwarded message:\n\nFrom: Mia\nSubject: Hilfe\n\nMein Antrag ist weg.\n> alt", "Mein Antrag ist weg.",
     "Begin forwarded message:\n\nFrom: Mia\nSubject: Hilfe\n\n> alt", ""),
    (f"{LONG}\n\n{FORWARD_HEAD}\n\nMein Antrag ist weg.", LONG, f"{FORWARD_HEAD}\n\nMein Antrag ist weg.", ""),
])
def test_forwarded_text_is_new_below_a_short_note(text, new, quoted, signature):
    assert split_reply(text) == (new, quoted, signature)


def test_outlook_block_of_a_forward_is_read_as_forward():
    text = f"Zur Kenntnis.\n\n{OUTLOOK}\n\nMein Antrag ist weg."
    assert split_reply(text, is_forward=True) == ("Zur Kenntnis.\n\nMein Antrag ist weg.", OUTLOOK, "")
    assert split_reply(text) == ("Zur Kenntnis.", f"{OUTLOOK}\n\nMein Antrag ist weg.", "")


@pytest.mark.parametrize(("subject", "forward"), [
    ("WG: Beschwerde", True), ("Fwd: Hilfe", True), ("FW: Antrag", True), ("  wg:Antrag", True),
    ("AW: WG: Beschwerde", False), ("Re: Hilfe", False), ("Wegen Antrag", False), ("", False),
])
def test_is_forward_subject(subject, forward):
    assert is_forward_subject(subject) is forward


def test_packaged_markers_load():
    assert load_markers(DEFAULT_MARKERS).forward_short_words > 0


@pytest.mark.parametrize("content", ["[reply]\nseparators = ['(']\n", "kein toml = ", "[reply]\n"])
def test_broken_marker_file_is_a_mail_error(tmp_path, content):
    path = tmp_path / "markers.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(MailError) as caught:
        load_markers(path)
    assert caught.value.code == "M104"


def test_public_names():
    from triage.mail import quotes

    assert quotes.__all__ == ["Markers", "load_markers", "default_markers", "split_reply", "is_forward_subject"]
