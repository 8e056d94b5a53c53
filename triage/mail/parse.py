"""Parsing an RFC 5322 / MIME message into what the classifier needs.

Standard library `email` with `policy.default`: decoded subject and sender, the text body
(plain text preferred, HTML converted to text), attachments listed but not read. A part whose
declared charset is wrong is decoded leniently (utf-8, then windows-1252) so umlauts survive.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from ..errors import InputError

__all__ = ["ParsedMail", "parse_bytes", "html_to_text"]


@dataclass
class ParsedMail:
    subject: str
    sender: str
    text: str
    message_id: str = ""
    date: str = ""
    attachments: list[dict] = field(default_factory=list)


_BLOCK = re.compile(r"<\s*(br|/p|/div|/li|/tr|/h\d)\b[^>]*>", re.IGNORECASE)
_DROP = re.compile(r"<\s*(script|style|head)\b.*?<\s*/\s*\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def html_to_text(markup: str) -> str:
    """Visible text of an HTML body; scripts and styles are dropped, never rendered."""
    text = _DROP.sub(" ", markup)
    text = _BLOCK.sub("\n", text)
    text = html.unescape(_TAG.sub(" ", text))
    return "\n".join(" ".join(line.split()) for line in text.splitlines()).strip()


def _decode(part: EmailMessage) -> str:
    payload = part.get_payload(decode=True) or b""
    charset = part.get_content_charset() or "utf-8"
    for candidate in (charset, "utf-8", "windows-1252"):
        try:
            return payload.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("utf-8", errors="replace")


def parse_bytes(raw: bytes) -> ParsedMail:
    if not raw or not raw.strip():
        raise InputError("I001")
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        body = message.get_body(preferencelist=("plain", "html"))
        text = ""
        if body is not None:
            text = _decode(body)
            if body.get_content_type() == "text/html":
                text = html_to_text(text)
        attachments = [
            {"name": part.get_filename() or "", "type": part.get_content_type(),
             "size": len(part.get_payload(decode=True) or b"")}
            for part in message.iter_attachments()
        ]
        return ParsedMail(str(message.get("subject", "") or ""), str(message.get("from", "") or ""), text,
                          str(message.get("message-id", "") or ""), str(message.get("date", "") or ""), attachments)
    except (ValueError, TypeError, AttributeError, LookupError) as exc:
        raise InputError("I002", path="(E-Mail)", reason=str(exc)) from exc
