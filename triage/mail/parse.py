"""Parsing an RFC 5322 / MIME message into what the classifier needs.

Standard library `email` with `policy.default` splits the message; everything read from it is
decoded leniently, because complaints arrive from every kind of mail program:

- body: plain text preferred over HTML within multipart/alternative, all inline text parts of
  multipart/mixed in order, HTML-only mail converted to text, forwarded messages
  (message/rfc822) appended as a "Weitergeleitete Nachricht" block;
- charsets: the declared one, then utf-8, then windows-1252, so umlauts survive mislabelled parts;
- headers: RFC 2047 encoded words decoded by hand, also broken or unencoded 8-bit ones;
- attachments: listed with name, type and size, never read.

`parse_bytes` raises only for empty input; anything else yields the best text it can, and
what went wrong is listed in `ParsedMail.defects`.
"""
from __future__ import annotations

import base64
import binascii
import codecs
import html
import re
from dataclasses import dataclass, field
from email import policy
from email.errors import MissingHeaderBodySeparatorDefect
from email.message import Message
from email.parser import BytesParser
from email.utils import parseaddr
from html.parser import HTMLParser
from typing import TypedDict

from ..errors import MailError
from .quotes import is_forward_subject, split_reply

__all__ = ["ParsedMail", "Attachment", "parse_bytes", "html_to_text", "decode_text", "decode_header_value"]

MAX_DEPTH = 12  # nesting of multiparts and forwards; deeper parts are skipped with a defect
MAX_PARTS = 500  # parts read per mail; the rest is skipped with a defect
FORWARD_LINE = "-------- Weitergeleitete Nachricht --------"


class Attachment(TypedDict):
    name: str
    type: str
    size: int


@dataclass
class ParsedMail:
    """A decoded mail. `text` is the whole body; `new_text` is what the classifier should read."""

    subject: str
    sender: str
    text: str
    message_id: str = ""
    date: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    new_text: str = ""
    quoted: str = ""
    signature: str = ""
    defects: list[str] = field(default_factory=list)


# --- charsets ---------------------------------------------------------------------------------

_SURROGATES = re.compile(r"[\udc80-\udcff]+")
_REFUSED_CODECS = {"unicode-escape", "raw-unicode-escape", "utf-7"}  # could smuggle in odd characters


def _codec(charset: str | None) -> str | None:
    if not charset:
        return None
    try:
        name = codecs.lookup(charset.strip().strip('"').split("*")[0]).name
    except (LookupError, ValueError):
        return None
    return None if name.replace("_", "-") in _REFUSED_CODECS else name


def _single_byte(name: str) -> bool:
    return name == "ascii" or name.startswith(("iso8859", "cp125", "latin"))


def _cp1252(data: bytes) -> str:
    """windows-1252, with its five undefined bytes read as latin-1: never fails."""
    text = data.decode("cp1252", errors="surrogateescape")
    return _SURROGATES.sub(lambda found: bytes(ord(c) - 0xDC00 for c in found.group()).decode("latin-1"), text)


def _try(data: bytes, name: str) -> str | None:
    try:
        text = data.decode(name)
        text.encode("utf-8")  # no lone surrogates from exotic codecs
    except (UnicodeError, LookupError, ValueError, TypeError):
        return None
    return text


def decode_text(data: bytes, charset: str | None = None, defects: list[str] | None = None) -> str:
    """Bytes to text: the declared charset, then utf-8, then windows-1252 (never fails).

    Mislabelled text is common: 8-bit text declared us-ascii or a single-byte charset is read as
    utf-8 when it is valid utf-8, else as windows-1252 (the printable superset of iso-8859-1).
    """
    notes = defects if defects is not None else []
    declared = (charset or "").strip()[:40]
    name = _codec(declared)
    if declared and name is None:
        notes.append(f"Zeichensatz {declared!r} unbekannt")
    eight_bit = any(byte > 0x7F for byte in data)
    if name and _single_byte(name) and eight_bit:
        if (text := _try(data, "utf-8")) is not None:
            notes.append(f"Zeichensatz: als {declared} deklariert, ist aber utf-8")
            return text
        if name == "ascii":
            notes.append(f"Zeichensatz: als {declared} deklariert, gelesen als windows-1252")
        if name in ("ascii", "iso8859-1", "cp1252"):
            return _cp1252(data)
    for candidate in (name, "utf-8"):
        if candidate and (text := _try(data, candidate)) is not None:
            if candidate != name and name and eight_bit:
                notes.append(f"Zeichensatz: als {declared} deklariert, gelesen als utf-8")
            return text
    if declared or eight_bit:
        notes.append(f"Zeichensatz: als {declared or 'us-ascii'} deklariert, gelesen als windows-1252")
    return _cp1252(data)


def _unescape_8bit(text: str, defects: list[str], where: str) -> str:
    """Raw 8-bit bytes in a header (kept by the parser as surrogates): utf-8 (RFC 6532), else cp1252."""
    if not _SURROGATES.search(text):
        return text

    def bytes_to_text(found: re.Match[str]) -> str:
        data = bytes(ord(c) - 0xDC00 for c in found.group())
        if (text := _try(data, "utf-8")) is not None:
            return text
        defects.append(f"{where}: 8-Bit-Zeichen ohne Kodierung, gelesen als windows-1252")
        return _cp1252(data)

    return _SURROGATES.sub(bytes_to_text, text)


# --- headers ----------------------------------------------------------------------------------

_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,60})\?([QqBb])\?(.*?)\?=")
_BETWEEN_WORDS = re.compile(r"(?<=\?=)[ \t]+(?==\?[^?\s]{1,60}\?[QqBb]\?)")


def _word_bytes(encoding: str, text: str) -> bytes:
    if encoding in "Bb":
        cleaned = re.sub(r"[^A-Za-z0-9+/]", "", text)
        return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4))
    raw = text.replace("_", " ").encode("utf-8", errors="surrogateescape")
    return re.sub(rb"=([0-9A-Fa-f]{2})", lambda found: bytes([int(found.group(1), 16)]), raw)


def decode_header_value(value: str, defects: list[str] | None = None, where: str = "Kopfzeile") -> str:
    """An RFC 2047 header value as one line of text; broken encoded words are decoded as far as possible."""
    notes = defects if defects is not None else []
    value = re.sub(r"[\r\n]", "", value)  # unfold
    value = _BETWEEN_WORDS.sub("", value)

    def word(found: re.Match[str]) -> str:
        charset, encoding, text = found.groups()
        try:
            data = _word_bytes(encoding, text)
        except (binascii.Error, ValueError):
            notes.append(f"{where}: kaputtes kodiertes Wort")
            return found.group()
        word_notes: list[str] = []
        text = decode_text(data, charset, word_notes)
        notes.extend(f"{where}: {note}" for note in word_notes)
        return text

    decoded = _ENCODED_WORD.sub(word, value)
    decoded = _unescape_8bit(decoded, notes, where)
    return " ".join(decoded.replace("\x00", "").split())


def _raw_header(message: Message, name: str) -> str:
    for key, value in message.raw_items():
        if key.lower() == name:
            return str(value)
    return ""


def _sender(raw: str, defects: list[str]) -> str:
    """"Name <address>" with the name decoded, or the decoded value when it is no address."""
    try:
        name, address = parseaddr(re.sub(r"\r?\n", "", raw))
    except Exception:  # parseaddr fails on some garbage; the plain value will do
        name, address = "", ""
    if not address or "@" not in address:
        return decode_header_value(raw, defects, "Absender")
    name = decode_header_value(name, defects, "Absender").strip('"')
    address = _unescape_8bit(address, defects, "Absender")
    return f"{name} <{address}>" if name else address


# --- HTML -------------------------------------------------------------------------------------

_LINES = {"address", "article", "aside", "center", "dd", "div", "dt", "fieldset", "figcaption", "figure",
          "footer", "form", "header", "li", "main", "nav", "section", "tbody", "td", "tfoot", "th", "thead", "tr"}
_PARAGRAPHS = {"blockquote", "dl", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "ol", "p", "pre", "table", "ul"}
_DROPPED = {"script", "style", "head", "title", "template", "svg", "object", "iframe", "xml", "noscript"}


class _TextCollector(HTMLParser):
    """Visible text: a line per block, a blank line around paragraphs, "> " before quoted lines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._line: list[str] = []
        self._line_depth = 0
        self._quote_depth = 0
        self._dropped: dict[str, int] = {}

    def _flush(self, always: bool = False) -> None:
        text = " ".join("".join(self._line).split())
        if text or always:
            self.lines.append(("> " * self._line_depth + text) if text else "")
        self._line = []

    def _block(self, tag: str) -> None:
        if tag == "br":
            self._flush(always=True)
            return
        self._flush()
        if tag in _PARAGRAPHS and self.lines and self.lines[-1]:
            self.lines.append("")

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _DROPPED:
            self._dropped[tag] = self._dropped.get(tag, 0) + 1
        elif tag == "body":
            self._dropped.pop("head", None)  # a missing </head> must not hide the body
        elif tag in _LINES or tag in _PARAGRAPHS or tag == "br":
            self._block(tag)
            self._quote_depth += tag == "blockquote"
            if tag == "li":
                self._line.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED:
            self._dropped[tag] = max(0, self._dropped.get(tag, 0) - 1)
        elif tag in _LINES or tag in _PARAGRAPHS:
            self._block(tag)
            if tag == "blockquote":
                self._quote_depth = max(0, self._quote_depth - 1)

    def handle_data(self, data: str) -> None:
        if any(self._dropped.values()):
            return
        if not "".join(self._line).strip():
            self._line_depth = self._quote_depth
        self._line.append(data if self._line else data.lstrip())

    def close(self) -> None:
        if self.rawdata.startswith("<") and not self.cdata_elem:
            self.rawdata = ""  # a tag cut off at the end is markup, not text
        super().close()

    def text(self) -> str:
        self._flush()
        return "\n".join(self.lines).strip()


_MARKED_SECTION = re.compile(r"<!\[[^>]*(?:>|\Z)")
_DROP_RE = re.compile(r"<\s*(script|style)\b.*?(?:<\s*/\s*\1\s*>|\Z)", re.IGNORECASE | re.DOTALL)
_BLOCK_RE = re.compile(r"<\s*/?\s*(br|p|div|li|tr|h\d|blockquote|table|ul|ol)\b[^>]*>", re.IGNORECASE)
_TAG_RE = re.compile(r"<[^>]*>")


def html_to_text(markup: str) -> str:
    """Visible text of an HTML body: scripts and styles dropped, blocks on their own lines, entities decoded."""
    for attempt in (markup, _MARKED_SECTION.sub("", markup)):
        collector = _TextCollector()
        try:
            collector.feed(attempt)
            collector.close()
            return collector.text()
        except Exception:  # html.parser rejects some broken "<![...]>" sections: retry without them
            continue
    text = html.unescape(_TAG_RE.sub(" ", _BLOCK_RE.sub("\n", _DROP_RE.sub(" ", markup))))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(" ".join(line.split()) for line in text.splitlines())).strip()


# --- body -------------------------------------------------------------------------------------


@dataclass
class _Found:
    """What a walk over the MIME tree collects."""

    texts: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    plain: bool = False  # some text came from a text/plain part
    budget: list[int] = field(default_factory=lambda: [MAX_PARTS])  # parts left, shared by the whole walk

    def child(self) -> _Found:
        return _Found(budget=self.budget)


def _note_defects(part: Message, found: _Found) -> None:
    found.defects.extend(f"MIME: {type(defect).__name__}" for defect in getattr(part, "defects", []))


def _payload(part: Message) -> bytes:
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _attachment(part: Message, ctype: str, found: _Found, size: int | None = None) -> None:
    name = decode_header_value(str(part.get_filename() or ""), found.defects, "Anhang")
    found.attachments.append({"name": name, "type": ctype, "size": len(_payload(part)) if size is None else size})


def _leaf_text(part: Message, ctype: str, found: _Found) -> None:
    notes: list[str] = []
    text = decode_text(_payload(part), part.get_content_charset(), notes)
    found.defects.extend(f"Text ({ctype}): {note}" for note in notes)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    if ctype == "text/html":
        text = html_to_text(text)
    else:
        found.plain = True
        if ctype != "text/plain":
            found.defects.append(f"MIME: {ctype} ohne Grenze als Text gelesen")
    if text.strip():
        found.texts.append(text.strip("\n"))


def _alternative(parts: list[Message], found: _Found, depth: int) -> None:
    """Keep the first alternative with plain text, else the first with any text; list all attachments."""
    options = []
    for part in parts:
        option = found.child()
        _walk(part, option, depth + 1)
        found.attachments.extend(option.attachments)
        found.defects.extend(option.defects)
        options.append(option)
    with_text = [option for option in options if option.texts]
    chosen = next((option for option in with_text if option.plain), with_text[0] if with_text else None)
    if chosen:
        found.texts.extend(chosen.texts)
        found.plain = found.plain or chosen.plain


def _size_of(message: Message) -> int:
    try:
        return len(message.as_bytes())
    except Exception:  # re-serialising a broken message can fail; the size is only informative
        return 0


def _forwarded(part: Message, ctype: str, found: _Found, depth: int) -> None:
    """A message/rfc822 part: listed as attachment and its text appended as a forward block."""
    inner = part.get_payload()
    if isinstance(inner, list) and inner and isinstance(inner[0], Message):
        message = inner[0]
        size = _size_of(message)
    else:  # encoded (against RFC 2046) or unparsed: parse its bytes ourselves
        data = _payload(part)
        message, size = BytesParser(policy=policy.default).parsebytes(data), len(data)
    _attachment(part, ctype, found, size)
    inner_found = found.child()
    _walk(message, inner_found, depth + 1)
    found.attachments.extend(inner_found.attachments)
    found.defects.extend(inner_found.defects)
    head = [FORWARD_LINE]
    for label, key in (("Von", "from"), ("Datum", "date"), ("Betreff", "subject"), ("An", "to")):
        value = decode_header_value(_raw_header(message, key), found.defects, label)
        if value:
            head.append(f"{label}: {value}")
    if inner_found.texts or len(head) > 1:
        found.texts.append("\n".join(head) + "\n\n" + "\n\n".join(inner_found.texts))


def _walk(part: Message, found: _Found, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        found.defects.append("MIME: zu tief verschachtelt, Rest übersprungen")
        return
    if found.budget[0] <= 0:
        found.defects.append(f"MIME: mehr als {MAX_PARTS} Teile, Rest übersprungen")
        return
    found.budget[0] -= 1
    try:
        _walk_part(part, found, depth)
    except Exception as exc:  # one unreadable part must not cost the rest of the mail
        found.defects.append(f"MIME: Teil nicht lesbar ({type(exc).__name__})")
    _note_defects(part, found)


def _walk_part(part: Message, found: _Found, depth: int) -> None:
    ctype = part.get_content_type()
    if ctype == "message/rfc822":
        _forwarded(part, ctype, found, depth)
    elif part.is_multipart():
        children = [child for child in part.get_payload() if isinstance(child, Message)]
        if ctype == "multipart/alternative":
            _alternative(children, found, depth)
        else:
            for child in children:
                _walk(child, found, depth + 1)
    elif part.get_filename() or part.get_content_disposition() == "attachment":
        _attachment(part, ctype, found)
    elif ctype in ("text/plain", "text/html") or ctype.startswith("multipart/"):
        _leaf_text(part, ctype, found)
    else:
        _attachment(part, ctype, found)


# --- the whole mail ---------------------------------------------------------------------------


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _from_message(message: Message, defects: list[str]) -> ParsedMail:
    found = _Found(defects=defects)
    _walk(message, found)
    defects = found.defects
    subject = decode_header_value(_raw_header(message, "subject"), defects, "Betreff")
    sender = _sender(_raw_header(message, "from"), defects)
    text = "\n\n".join(found.texts).strip()
    new_text, quoted, signature = split_reply(text, is_forward=is_forward_subject(subject))
    return ParsedMail(subject, sender, text,
                      message_id=decode_header_value(_raw_header(message, "message-id"), defects, "Message-ID"),
                      date=decode_header_value(_raw_header(message, "date"), defects, "Datum"),
                      attachments=found.attachments, new_text=new_text, quoted=quoted, signature=signature,
                      defects=_unique(defects))


_HEADER_LINE = re.compile(rb"^[!-9;-~]+:")


def _drop_stray_header_lines(raw: bytes) -> bytes | None:
    """The mail without lines among its headers that are no header (the parser would end the headers there)."""
    lines = raw.splitlines(keepends=True)
    head_end = next((i for i, line in enumerate(lines) if not line.strip()), len(lines))
    last_header = max((i for i in range(head_end) if _HEADER_LINE.match(lines[i])), default=-1)
    kept = [line for i, line in enumerate(lines[:last_header + 1])
            if _HEADER_LINE.match(line) or (i and line[:1] in b" \t")]
    if len(kept) == last_header + 1:
        return None
    return b"".join(kept + lines[last_header + 1:])


def _parse(raw: bytes) -> tuple[Message, list[str]]:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    if any(isinstance(defect, MissingHeaderBodySeparatorDefect) for defect in message.defects):
        repaired = _drop_stray_header_lines(raw)
        if repaired is not None:
            return (BytesParser(policy=policy.default).parsebytes(repaired),
                    ["Kopfzeilen: Zeile ohne Doppelpunkt zwischen den Kopfzeilen übersprungen"])
    return message, []


def parse_bytes(raw: bytes) -> ParsedMail:
    """Parse one raw mail. Raises `MailError` (M101) only for empty input."""
    if not raw or not bytes(raw).strip():
        raise MailError("M101", reason="leere Eingabe")
    raw = bytes(raw)
    try:
        return _from_message(*_parse(raw))
    except Exception as exc:  # promise: arbitrary bytes never crash the caller
        defects = [f"MIME: nicht zerlegbar ({type(exc).__name__}), als Text gelesen"]
        text = decode_text(raw, None, defects).replace("\r\n", "\n").replace("\x00", "").strip()
        new_text, quoted, signature = split_reply(text)
        return ParsedMail("", "", text, new_text=new_text, quoted=quoted, signature=signature,
                          defects=_unique(defects))
