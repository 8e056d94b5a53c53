"""Reading raw mails from files: a single .eml, an mbox file or a Maildir folder.

Every source yields `(source_id, raw bytes)`; parsing is `parse.parse_bytes`'s job. The ids are
stable across runs: the file path for an .eml, `path#index` for mbox, `path#key` (Maildir's
unique file name, prefixed by the subfolder) for Maildir. Errors of the `mailbox` module and
the file system become a `MailError` here, the one module that touches them.
"""
from __future__ import annotations

import mailbox
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from ..errors import MailError

__all__ = ["SourceKind", "detect_kind", "iter_eml", "iter_mbox", "iter_maildir", "iter_source"]

SourceKind = Literal["eml", "mbox", "maildir"]

_MBOX_SUFFIXES = {".mbox", ".mbx", ".mbs"}
_SNIFF_BYTES = 4096


def _unreadable(path: Path, exc: OSError | mailbox.Error) -> MailError:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
    return MailError("M102", path=path, reason=reason)


def _looks_like_headers(head: bytes) -> bool:
    first = head.lstrip(b"\r\n").split(b"\n", 1)[0]
    name, colon, _ = first.partition(b":")
    return bool(colon) and bool(name) and all(33 <= byte <= 126 for byte in name)


def detect_kind(path: str | Path) -> SourceKind:
    """Which kind of source `path` is; a `MailError` if it is missing, unreadable or none of the three."""
    path = Path(path)
    try:
        if path.is_dir():
            if (path / "cur").is_dir() and (path / "new").is_dir():
                return "maildir"
            raise MailError("M103", path=path)
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    suffix = path.suffix.lower()
    if suffix == ".eml":
        return "eml"
    if head.lstrip(b"\r\n").startswith(b"From ") or (not head.strip() and suffix in _MBOX_SUFFIXES):
        return "mbox"
    if _looks_like_headers(head):
        return "eml"
    raise MailError("M103", path=path)


def iter_eml(path: str | Path) -> Iterator[tuple[str, bytes]]:
    """The one message of an .eml file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    yield str(path), raw


def iter_mbox(path: str | Path) -> Iterator[tuple[str, bytes]]:
    """The messages of an mbox file in file order, without their "From " separator lines."""
    path = Path(path)
    try:
        box = mailbox.mbox(path, factory=None, create=False)
        keys = box.keys()
    except (OSError, mailbox.Error) as exc:
        raise _unreadable(path, exc) from exc
    try:
        for index, key in enumerate(keys):
            yield f"{path}#{index}", box.get_bytes(key)
    except (OSError, mailbox.Error) as exc:
        raise _unreadable(path, exc) from exc
    finally:
        box.close()


def _maildir_messages(box: mailbox.Maildir, prefix: str) -> Iterator[tuple[str, bytes]]:
    for key in sorted(box.keys()):
        try:
            raw = box.get_bytes(key)
        except (KeyError, FileNotFoundError):  # delivered or moved away while we read: not ours any more
            continue
        yield f"{prefix}{key}", raw


def iter_maildir(path: str | Path, *, subfolders: bool = False) -> Iterator[tuple[str, bytes]]:
    """The messages of a Maildir (new and cur), sorted by key; with `subfolders` also its Maildir++ folders."""
    path = Path(path)
    try:
        box = mailbox.Maildir(path, factory=None, create=False)
        yield from _maildir_messages(box, f"{path}#")
        if subfolders:
            for name in sorted(box.list_folders()):
                yield from _maildir_messages(box.get_folder(name), f"{path}#{name}/")
    except (OSError, mailbox.Error) as exc:
        raise _unreadable(path, exc) from exc


def iter_source(path: str | Path, *, subfolders: bool = False) -> Iterator[tuple[str, bytes]]:
    """Every message of an .eml file, an mbox file or a Maildir folder, detected by looking at it.

    The kind is checked at once (a bad path fails on the call, not on the first `next`).
    """
    kind = detect_kind(path)
    if kind == "maildir":
        return iter_maildir(path, subfolders=subfolders)
    return iter_mbox(path) if kind == "mbox" else iter_eml(path)
