"""Property tests: parsing never fails on arbitrary input, only empty input is an error.

Every field of the result must be plain text that can be stored as UTF-8 (no lone surrogates
from undecodable bytes), whatever the bytes were.
"""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from triage.errors import MailError
from triage.mail.parse import ParsedMail, parse_bytes
from triage.mail.quotes import split_reply

CHARSETS = ["utf-8", "us-ascii", "iso-8859-1", "iso-8859-15", "windows-1252", "x-unbekannt", "utf-16",
            "unicode_escape", "base64", '"', ""]
TYPES = ["text/plain", "text/html", 'multipart/mixed; boundary="b"', 'multipart/alternative; boundary="b"',
         "multipart/mixed", "message/rfc822", "application/pdf", "text/plain; format=flowed", "kaputt"]
ENCODINGS = ["7bit", "8bit", "quoted-printable", "base64", "x-uuencode", "kaputt"]
PIECES = ["--b\n", "--b--\n", "\n", "Content-Type: text/html; charset=utf-8\n\n", "Content-Type: message/rfc822\n\n",
          "Content-Transfer-Encoding: base64\n\n", "=?utf-8?B?", "=?utf-8?Q?=C3", "?=", "<p>", "<script>", "<!",
          "&uuml", "> ", "Am 03.02.2025 um 09:14 schrieb Amt <a@example.org>:\n", "-- \n", "Mit freundlichen Grüßen\n",
          "---------- Forwarded message ---------\n", "Von: A\nGesendet: B\nAn: C\nBetreff: D\n", "=\n", "=C3"]

bodies = st.lists(st.one_of(st.text(max_size=40), st.sampled_from(PIECES)), max_size=25).map("".join)
encoded_words = st.builds(lambda cs, enc, text: f"=?{cs}?{enc}?{text}?=", st.sampled_from(CHARSETS),
                          st.sampled_from("BbQq"), st.text(max_size=20))
header_values = st.one_of(st.text(max_size=60), encoded_words,
                          st.lists(st.one_of(st.text(max_size=10), encoded_words), max_size=5).map(" ".join))


def assert_clean(mail: ParsedMail) -> None:
    for value in (mail.subject, mail.sender, mail.text, mail.message_id, mail.date, mail.new_text, mail.quoted,
                  mail.signature, *mail.defects):
        assert isinstance(value, str)
        value.encode("utf-8")  # raises on lone surrogates
    for attachment in mail.attachments:
        assert isinstance(attachment["name"], str) and isinstance(attachment["size"], int)
        attachment["name"].encode("utf-8")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000))
def test_arbitrary_bytes(raw):
    try:
        mail = parse_bytes(raw)
    except MailError as exc:
        assert exc.code == "M101" and not raw.strip()
        return
    assert_clean(mail)


@settings(max_examples=300, deadline=None)
@given(subject=header_values, sender=header_values, ctype=st.sampled_from(TYPES), charset=st.sampled_from(CHARSETS),
       cte=st.sampled_from(ENCODINGS), body=bodies, codec=st.sampled_from(["utf-8", "latin-1", "cp1252", "utf-16"]))
def test_arbitrary_text_wrapped_in_headers(subject, sender, ctype, charset, cte, body, codec):
    head = (f"From: {sender} <absender@example.org>\nSubject: {subject}\nMIME-Version: 1.0\n"
            f"Content-Type: {ctype}; charset={charset}\nContent-Transfer-Encoding: {cte}\n\n")
    raw = head.encode("utf-8", errors="surrogatepass") + body.encode(codec, errors="replace")
    assert_clean(parse_bytes(raw))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=40), st.sampled_from(PIECES)), max_size=40).map("".join),
       st.booleans())
def test_split_reply_only_moves_lines(text, is_forward):
    lines = {line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")}
    for part in split_reply(text, is_forward=is_forward):
        assert set(part.split("\n")) <= lines | {""}
