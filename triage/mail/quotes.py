"""Splitting a mail body into the new text, the quoted history and the signature.

The classifier should read what the sender wrote now, not the Jobcenter's letter quoted below
it nor the sender's address block. The markers (reply headers, forward lines, closings,
disclaimers) are data in `triage/data/mail_markers.toml`; the functions here are pure.

A forward is special: when the forwarder wrote little or nothing above it, the forwarded
text is the concern and counts as new text. So is history with nothing at all above it.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import MailError

__all__ = ["Markers", "load_markers", "default_markers", "split_reply", "is_forward_subject"]

DEFAULT_MARKERS = Path(__file__).resolve().parent.parent / "data" / "mail_markers.toml"

_QUOTE_LINE = re.compile(r"^[ \t]{0,3}>")
_WORD = re.compile(r"\w+")
_REPLY, _FORWARD = "reply", "forward"
_MAX_FORWARDS = 5  # forwards of forwards read as new text; deeper ones stay history
_MAX_LINE = 300  # longer lines are prose, never a reply header


@dataclass(frozen=True)
class Markers:
    """Compiled patterns of one marker file (see `load_markers`)."""

    separators: tuple[re.Pattern[str], ...]
    attributions: tuple[re.Pattern[str], ...]
    attribution_evidence: re.Pattern[str]
    wrapped_start: re.Pattern[str]
    rule_line: re.Pattern[str]
    header_labels: dict[str, re.Pattern[str]]
    header_window: int
    inline_header: re.Pattern[str]
    forward: tuple[re.Pattern[str], ...]
    forward_subject: re.Pattern[str]
    forward_short_words: int
    sig_separators: tuple[re.Pattern[str], ...]
    mobile: tuple[re.Pattern[str], ...]
    disclaimers: tuple[re.Pattern[str], ...]
    closings: tuple[re.Pattern[str], ...]
    closing_max_words: int
    block_max_lines: int
    block_max_words: int
    postscript: re.Pattern[str]


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _label_pattern(labels: list[str]) -> re.Pattern[str]:
    names = "|".join(re.escape(label) for label in labels)
    return _compile(rf"^\*?({names})\s*:\*?(\s|$)")


def _markers_from(spec: dict) -> Markers:
    reply, forward, sig = spec["reply"], spec["forward"], spec["signature"]
    many = lambda patterns: tuple(_compile(p) for p in patterns)  # noqa: E731
    roles = ("from", "date", "to", "subject", "other")
    return Markers(
        separators=many(reply["separators"]),
        attributions=many(reply["attributions"]),
        attribution_evidence=_compile(reply["attribution_evidence"]),
        wrapped_start=_compile(reply["wrapped_start"]),
        rule_line=_compile(reply["rule_line"]),
        header_labels={role: _label_pattern(reply[f"header_{role}"]) for role in roles},
        header_window=int(reply["header_window"]),
        inline_header=_compile(reply["inline_header"]),
        forward=many(forward["markers"]),
        forward_subject=_compile(forward["subject_prefix"]),
        forward_short_words=int(forward["short_words"]),
        sig_separators=many(sig["separators"]),
        mobile=many(sig["mobile"]),
        disclaimers=many(sig["disclaimers"]),
        closings=many(sig["closings"]),
        closing_max_words=int(sig["closing_max_words"]),
        block_max_lines=int(sig["block_max_lines"]),
        block_max_words=int(sig["block_max_words"]),
        postscript=_compile(sig["postscript"]),
    )


def load_markers(path: str | Path) -> Markers:
    """Read and compile a marker file; a missing key or a bad pattern is a `MailError` M104."""
    path = Path(path)
    try:
        return _markers_from(tomllib.loads(path.read_text(encoding="utf-8")))
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError, re.error) as exc:
        raise MailError("M104", path=path, reason=f"{type(exc).__name__}: {exc}") from exc


@lru_cache(maxsize=1)
def default_markers() -> Markers:
    """The packaged markers, read once on first use."""
    return load_markers(DEFAULT_MARKERS)


def is_forward_subject(subject: str, markers: Markers | None = None) -> bool:
    """True for "WG: ...", "Fwd: ..." and the like (a reply to a forward, "AW: WG:", is not)."""
    return bool((markers or default_markers()).forward_subject.match(subject.strip()))


def _any(patterns: tuple[re.Pattern[str], ...], line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and any(p.search(stripped) for p in patterns)


def _words(lines: list[str]) -> int:
    return sum(len(_WORD.findall(line)) for line in lines)


def _join(lines: list[str]) -> str:
    text = "\n".join(line.rstrip() for line in lines).strip("\n")
    return re.sub(r"\n{3,}", "\n\n", text)


def _next_filled(lines: list[str], start: int) -> str:
    return next((line for line in lines[start:] if line.strip()), "")


def _attribution(lines: list[str], i: int, m: Markers) -> int:
    """Number of lines (1 to 3) of the attribution starting at line i, or 0."""
    spans = (1, 2, 3) if m.wrapped_start.match(lines[i].strip()) else (1,)
    for span in spans:
        last = lines[i + span - 1] if i + span <= len(lines) else ""
        if not last.strip() or len(last) > _MAX_LINE:
            break
        joined = " ".join(line.strip() for line in lines[i:i + span])
        if m.attribution_evidence.search(joined) and _any(m.attributions, joined):
            return span
    return 0


def _header_block(lines: list[str], i: int, m: Markers) -> bool:
    """An Outlook-style block of "Von:", "Gesendet:", "An:", "Betreff:" lines starts at line i."""
    line = lines[i].strip()
    if m.inline_header.search(line):
        return True
    labels = m.header_labels
    if not any(p.match(line) for p in labels.values()):
        return False
    roles = set()
    for candidate in lines[i:i + m.header_window]:
        roles.update(role for role, p in labels.items() if p.match(candidate.strip()))
    return {"from", "subject"} <= roles and bool(roles & {"date", "to"})


def _cut_kind(lines: list[str], i: int, m: Markers) -> str | None:
    line = lines[i]
    if _any(m.forward, line):
        return _FORWARD
    if _any(m.separators, line) or _header_block(lines, i, m):
        return _REPLY
    if m.rule_line.match(line.strip()) and i + 1 < len(lines) and _header_block(lines, i + 1, m):
        return _REPLY
    return None


def _scan(lines: list[str], m: Markers) -> tuple[list[str], list[str], int, str | None]:
    """Walk down the lines: new lines, quoted lines, and where (and how) the history starts."""
    new: list[str] = []
    quoted: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if _QUOTE_LINE.match(line):
            quoted.append(line)
            i += 1
            continue
        kind = _cut_kind(lines, i, m)
        if kind:
            return new, quoted, i, kind
        span = _attribution(lines, i, m)
        if span:
            if not _QUOTE_LINE.match(_next_filled(lines, i + span)):
                return new, quoted, i, _REPLY  # unprefixed history below: all of it is quoted
            quoted.extend(lines[i:i + span])  # "> " quote follows; text after it may be new again
            i += span
            continue
        new.append(line)
        i += 1
    return new, quoted, len(lines), None


def _hard_end(lines: list[str], m: Markers) -> int:
    """First line of a "-- " separator, a mobile footer or a disclaimer (after some text)."""
    first_text = next((k for k, line in enumerate(lines) if line.strip()), len(lines))
    for k, line in enumerate(lines):
        if _any(m.sig_separators, line) or _any(m.mobile, line) or (k > first_text and _any(m.disclaimers, line)):
            return k
    return len(lines)


def _closing(line: str, m: Markers) -> bool:
    stripped = line.strip()
    return len(_WORD.findall(stripped)) <= m.closing_max_words and _any(m.closings, stripped)


def _name_block(lines: list[str], m: Markers) -> bool:
    filled = [line for line in lines if line.strip()]
    return len(filled) <= m.block_max_lines and all(len(_WORD.findall(line)) <= m.block_max_words for line in filled)


def _name_block_span(lines: list[str], end: int, m: Markers) -> tuple[int, int]:
    """(start, stop) of the name/address block below the last closing before `end`, else (end, end)."""
    for k in range(end - 1, -1, -1):
        if _closing(lines[k], m):
            stop = next((j for j in range(k + 1, end) if m.postscript.match(lines[j].strip())), end)
            while stop > k + 1 and not lines[stop - 1].strip():
                stop -= 1  # the blank line before a postscript stays with it
            return (k + 1, stop) if _name_block(lines[k + 1:stop], m) else (end, end)
    return end, end


def _split_signature(lines: list[str], m: Markers) -> tuple[list[str], list[str]]:
    """New lines without the signature (a postscript stays), and the signature lines."""
    hard = _hard_end(lines, m)
    start, stop = _name_block_span(lines, hard, m)
    return lines[:start] + lines[stop:hard], lines[start:stop] + lines[hard:]


def _forwarded_body(lines: list[str], m: Markers) -> tuple[list[str], list[str]]:
    """Split the lines from a forward marker on into its header lines and the forwarded body."""
    labels = tuple(m.header_labels.values())
    k = 0
    while k < len(lines):
        line = lines[k].strip()
        if line and not (_any(m.forward, line) or _any(m.separators, line) or m.rule_line.match(line)
                         or any(p.match(line) for p in labels)):
            break
        k += 1
    return lines[:k], lines[k:]


def _glue(*texts: str) -> str:
    return "\n\n".join(text for text in texts if text)


def split_reply(text: str, *, is_forward: bool = False, markers: Markers | None = None) -> tuple[str, str, str]:
    """Split a body into (new text, quoted history, signature).

    `is_forward` says the mail as a whole is a forward (its subject starts with "WG:"), so an
    Outlook header block is read like a forward marker.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return _split(lines, is_forward, markers or default_markers(), _MAX_FORWARDS)


def _split(lines: list[str], is_forward: bool, m: Markers, forwards_left: int) -> tuple[str, str, str]:
    new, quoted, cut, kind = _scan(lines, m)
    body, signature = _split_signature(new, m)
    history = lines[cut:]
    words = _words(body)
    # Forwards with little above them, and history with nothing at all above it (an empty reply, or
    # a letter opening with "Von:", "An:", "Betreff:" lines), are read for the text below.
    if kind and (kind == _FORWARD or is_forward or not words) and forwards_left and words < m.forward_short_words:
        headers, forwarded = _forwarded_body(history, m)
        f_new, f_quoted, f_signature = _split(forwarded, False, m, forwards_left - 1)
        return (_glue(_join(body), f_new), _glue(_join(quoted), _join(headers), f_quoted),
                _glue(_join(signature), f_signature))
    return _join(body), _join(quoted + history), _join(signature)
