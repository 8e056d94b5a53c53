"""Parsing the written test mails in tests/mail/corpus, and the decoding helpers on tiny inputs.

Each corpus/NAME.eml has the new text the classifier should read in NAME.expected.txt.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from triage.errors import InputError, MailError
from triage.mail.parse import decode_header_value, decode_text, html_to_text, parse_bytes

CORPUS = Path(__file__).parent / "corpus"
MAILS = sorted(CORPUS.glob("*.eml"))


def mail(name: str):
    return parse_bytes((CORPUS / f"{name}.eml").read_bytes())


def test_corpus_has_a_sidecar_for_every_mail():
    assert len(MAILS) >= 15
    assert all(path.with_suffix(".expected.txt").is_file() for path in MAILS)


@pytest.mark.parametrize("path", MAILS, ids=lambda path: path.stem)
def test_new_text_is_the_expected_one(path):
    expected = path.with_suffix(".expected.txt").read_text(encoding="utf-8").strip()
    assert parse_bytes(path.read_bytes()).new_text == expected


@pytest.mark.parametrize(("name", "subject", "sender"), [
    ("01_plain_qp_utf8", "Bearbeitung meines Antrags", "Erika Musterfrau <erika.musterfrau@example.org>"),
    ("04_latin1_base64", "Unterlagen verschwunden - Beschwerde über Umgang", "Hans Probe <h.probe@example.com>"),
    ("09_rfc2047_headers", "Beschwerde über die Sachbearbeitung – dringend", "Jürgen Müller <j.mueller@example.net>"),
    ("10_broken_headers", "Beschwerde über Kürzung", "Petra Schön <petra.schoen@example.org>"),
    ("11_reply_attribution", "Re: Mitwirkung Kontoauszüge", "Max Beispiel <max.beispiel@example.com>"),
])
def test_headers_are_decoded(name, subject, sender):
    parsed = mail(name)
    assert (parsed.subject, parsed.sender) == (subject, sender)


def test_message_id_and_date_are_kept():
    parsed = mail("01_plain_qp_utf8")
    assert parsed.message_id == "<01@example.org>"
    assert parsed.date == "Mon, 03 Feb 2025 10:12:00 +0100"


@pytest.mark.parametrize(("name", "fragment"), [
    ("04_latin1_base64", "persönlich abgegeben. Jetzt heißt es"),
    ("05_iso8859_15_crlf", "450 € zu wenig überwiesen"),
    ("06_cp1252_qp", "„das ist nicht mein Problem“ – so möchte"),
    ("07_mislabelled_ascii", "Kostenübernahme für die Klassenfahrt meiner Tochter (85 €)"),
    ("08_mislabelled_utf8", "keine Möbel mehr habe.\nIch bitte um erneute Prüfung."),
])
def test_charsets_give_umlauts(name, fragment):
    assert fragment in mail(name).text


@pytest.mark.parametrize(("name", "defect"), [
    ("07_mislabelled_ascii", "Text (text/plain): Zeichensatz: als us-ascii deklariert, gelesen als windows-1252"),
    ("08_mislabelled_utf8", "Text (text/plain): Zeichensatz: als utf-8 deklariert, gelesen als windows-1252"),
    ("10_broken_headers", "Betreff: Zeichensatz 'x-unbekannt' unbekannt"),
    ("10_broken_headers", "Absender: Zeichensatz: als utf-8 deklariert, gelesen als windows-1252"),
    ("22_malformed", "Kopfzeilen: Zeile ohne Doppelpunkt zwischen den Kopfzeilen übersprungen"),
    ("22_malformed", "MIME: InvalidBase64CharactersDefect"),
    ("22_malformed", "MIME: CloseBoundaryNotFoundDefect"),
])
def test_problems_are_listed_as_defects(name, defect):
    assert defect in mail(name).defects


@pytest.mark.parametrize("name", ["01_plain_qp_utf8", "02_alternative_plain_wins", "03_html_only_base64",
                                  "09_rfc2047_headers", "19_forward_rfc822_attachment", "20_nested_attachments"])
def test_well_formed_mail_has_no_defects(name):
    assert mail(name).defects == []


def test_plain_alternative_wins_over_html():
    assert "HTML-Fassung" not in mail("02_alternative_plain_wins").text


def test_html_mail_keeps_no_markup_and_no_script():
    parsed = mail("03_html_only_base64")
    for trace in ("<", ">", "alert", "document.location", "color: red", "tracker", "&uuml;"):
        assert trace not in parsed.text
    assert parsed.signature == "Jonas Beispiel\nTel. 0123 111222"


def test_html_blockquote_becomes_quoted_history():
    parsed = mail("23_html_gmail_reply")
    assert parsed.quoted == ("Am Mo., 3. Feb. 2025 um 09:14 Uhr schrieb Jobcenter Musterstadt "
                             "<post@jobcenter-musterstadt.example>:\n"
                             "> Sehr geehrter Herr Probe,\n> die Zahlung ist veranlasst.")


def test_reply_parts_are_separated():
    parsed = mail("11_reply_attribution")
    assert parsed.signature == "Max Beispiel\nMusterweg 3\n01234 Musterstadt"
    assert parsed.quoted.startswith("Am 03.02.2025 um 09:14 schrieb Jobcenter Musterstadt")
    assert parsed.quoted.endswith("> Ihr Jobcenter")
    assert parsed.text.startswith(parsed.new_text) and parsed.quoted in parsed.text


def test_outlook_reply_drops_disclaimer_and_history():
    parsed = mail("13_outlook_reply_disclaimer")
    assert parsed.signature.startswith("Sandra Beispiel\nSozialberatung Beispielverein e.V.")
    assert "Diese E-Mail kann vertrauliche" in parsed.signature
    assert parsed.quoted.startswith("________________________________\nVon: Jobcenter Musterstadt")


def test_forwarded_attachment_is_listed_and_read():
    parsed = mail("19_forward_rfc822_attachment")
    assert parsed.attachments == [
        {"name": "Mietzahlung.eml", "type": "message/rfc822", "size": parsed.attachments[0]["size"]},
        {"name": "Mahnung.pdf", "type": "application/pdf", "size": 24},
    ]
    assert parsed.attachments[0]["size"] > 500
    assert ("-------- Weitergeleitete Nachricht --------\nVon: Emil Probe <emil.probe@example.net>\n"
            "Datum: Thu, 30 Jan 2025 16:45:00 +0100\nBetreff: Mietzahlung für Wohnung") in parsed.text
    assert "(HTML)" not in parsed.text


def test_nested_attachments_are_listed_not_read():
    parsed = mail("20_nested_attachments")
    assert parsed.attachments == [
        {"name": "", "type": "image/png", "size": 16},
        {"name": "Bescheid März.pdf", "type": "application/pdf", "size": 26},
        {"name": "Notizen für Termin.txt", "type": "text/plain", "size": 50},
    ]
    assert "Notiz" not in parsed.text


def test_malformed_mail_still_gives_its_text():
    parsed = mail("22_malformed")
    assert parsed.subject == "Beschwerde Wartezeit"
    assert "Wartebereich gesessen" in parsed.text


@pytest.mark.parametrize("raw", [b"", b"   \r\n\t\n"])
def test_empty_input_is_a_mail_error(raw):
    with pytest.raises(MailError) as caught:
        parse_bytes(raw)
    assert caught.value.code == "M101"
    assert isinstance(caught.value, InputError)


def test_mail_without_body():
    parsed = parse_bytes(b"Subject: nur ein Betreff\n\n")
    assert (parsed.subject, parsed.text, parsed.new_text) == ("nur ein Betreff", "", "")


def test_text_without_headers_is_read_as_body():
    parsed = parse_bytes(b"Ich warte seit Wochen auf Geld.\nBitte helfen Sie mir.")
    assert parsed.text == "Ich warte seit Wochen auf Geld.\nBitte helfen Sie mir."


@pytest.mark.parametrize(("data", "charset", "text"), [
    (b"K\xfcndigung", "us-ascii", "Kündigung"),
    (b"K\xfcndigung", "utf-8", "Kündigung"),
    (b"K\xfcndigung", None, "Kündigung"),
    ("Kündigung".encode(), "iso-8859-1", "Kündigung"),
    (b"\x80 5 \x84so\x93", "iso-8859-1", "€ 5 „so“"),
    (b"\xa4 5", "iso-8859-15", "€ 5"),
    (b"\x81\x9d", "windows-1252", "\x81\x9d"),
    (b"Gr\xfc\xdfe", "x-unbekannt", "Grüße"),
    (b"\\u00fc", "unicode_escape", "\\u00fc"),
])
def test_decode_text_falls_back_sensibly(data, charset, text):
    assert decode_text(data, charset) == text


@pytest.mark.parametrize(("value", "text"), [
    ("=?utf-8?Q?Gr=C3=BC=C3=9Fe?= =?utf-8?Q?_aus_Pirna?=", "Grüße aus Pirna"),
    ("=?UTF-8?B?R3LDvMOfZQ?=", "Grüße"),
    ("=?iso-8859-1?q?Gr=FC=DFe?=\r\n =?iso-8859-1?q?_aus_Pirna?=", "Grüße aus Pirna"),
    ("=?utf-8?Q?Gr=FC=DFe?=", "Grüße"),
    ("=?utf-8*de?Q?Gr=C3=BC=C3=9Fe?=", "Grüße"),
    ("Antrag =?utf-8?Q?=C3=BCber?= Miete", "Antrag über Miete"),
    ("=?utf-8?B?A?= bleibt", "=?utf-8?B?A?= bleibt"),
    ("=?utf-8?Q?offen", "=?utf-8?Q?offen"),
])
def test_decode_header_value(value, text):
    assert decode_header_value(value) == text


def test_broken_encoded_word_is_a_defect():
    defects: list[str] = []
    decode_header_value("=?utf-8?B?A?=", defects, "Betreff")
    assert defects == ["Betreff: kaputtes kodiertes Wort"]


@pytest.mark.parametrize(("markup", "text"), [
    ("<p>Erster</p><p>Zweiter</p>", "Erster\n\nZweiter"),
    ("Zeile<br>Zeile<br><br>Absatz", "Zeile\nZeile\n\nAbsatz"),
    ("<div>Hallo,</div><div><br></div><div>Text</div>", "Hallo,\n\nText"),
    ("<ul><li>eins</li><li>zwei</li></ul>", "- eins\n- zwei"),
    ("<style>p {}</style><script>alert(1)</script>sichtbar", "sichtbar"),
    ("<head><title>T</title><body>ohne head-Ende", "ohne head-Ende"),
    ("Gr&uuml;&szlig;e &amp; &lt;Tags&gt; &#8364;", "Grüße & <Tags> €"),
    ("<!-- versteckt -->da<!X kaputt", "da"),
    ("Text<blockquote>alt</blockquote>", "Text\n\n> alt"),
    ("<table><tr><td>a</td><td>b</td></tr></table>", "a\nb"),
    ("<![if !supportLists]>- eins<![endif]>", "- eins"),
    ("<p>vorher</p><![kaputt ]><p>nachher &amp; <b>fett</b></p>", "vorher\n\nnachher & fett"),
])
def test_html_to_text(markup, text):
    assert html_to_text(markup) == text


def test_html_to_text_without_the_html_parser(monkeypatch):
    def refuse(self, data):
        raise AssertionError("kaputt")

    monkeypatch.setattr("triage.mail.parse._TextCollector.feed", refuse)
    assert html_to_text("<p>a</p><script>alert(1)</script><p>b &amp; c") == "a\n\nb & c"


def test_public_names():
    from triage.mail import parse

    assert parse.__all__ == ["ParsedMail", "Attachment", "parse_bytes", "html_to_text", "decode_text",
                             "decode_header_value"]
