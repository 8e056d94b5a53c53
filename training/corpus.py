"""Reading labelled JSONL (the corpus, the devset, reviewed messages) and checking it
against the category tree, with file and line in every error."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from triage.errors import DataError
from triage.taxonomy import Taxonomy

__all__ = ["Example", "read_examples", "corpus_files", "data_hash", "validate_labels", "DEFAULT_CORPUS"]

DEFAULT_CORPUS = Path(__file__).parent / "corpus"


@dataclass(frozen=True)
class Example:
    id: str
    text: str
    subject: str
    channel: str
    labels: dict


def corpus_files(path: str | Path) -> list[Path]:
    path = Path(path)
    files = sorted(path.rglob("*.jsonl")) if path.is_dir() else [path]
    if not files or not all(f.is_file() for f in files):
        raise DataError("D003", path=path)
    return files


def validate_labels(labels: object, taxonomy: Taxonomy, where: str) -> dict:
    """Check one label object against the spec; return it or raise DataError."""
    if not isinstance(labels, dict):
        raise DataError("D002", where=where, reason="labels fehlt oder ist kein Objekt")
    concerns = labels.get("concerns")
    if not isinstance(concerns, list) or not 1 <= len(concerns) <= taxonomy.max_concerns:
        raise DataError("D002", where=where, reason=f"concerns braucht 1 bis {taxonomy.max_concerns} Codes")
    if len(set(concerns)) != len(concerns):
        raise DataError("D002", where=where, reason="concerns enthält einen Code doppelt")
    for code in concerns:
        if not isinstance(code, str) or not taxonomy.has(code):
            raise DataError("D001", where=where, code=code, field="concerns")
    for name in ("art", "urgency", "absender", "routing"):
        if labels.get(name) not in taxonomy.values(name):
            raise DataError("D001", where=where, code=labels.get(name), field=name)
    if not isinstance(labels.get("language"), str) or not labels["language"]:
        raise DataError("D002", where=where, reason="language fehlt")
    return labels


def read_examples(path: str | Path, taxonomy: Taxonomy) -> Iterator[Example]:
    """Every labelled line of the JSONL file(s) at `path`; the first bad line raises."""
    for file in corpus_files(path):
        with open(file, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                where = f"{file.name}:{number}"
                try:
                    row = json.loads(line)
                except ValueError as exc:
                    raise DataError("D002", where=where, reason=f"kein gültiges JSON ({exc.msg})") from exc
                if not isinstance(row, dict) or not isinstance(row.get("text"), str) or not row["text"].strip():
                    raise DataError("D002", where=where, reason="text fehlt oder ist leer")
                yield Example(str(row.get("id", where)), row["text"], str(row.get("subject") or ""),
                              str(row.get("channel") or ""), validate_labels(row.get("labels"), taxonomy, where))


def data_hash(examples: list[Example]) -> str:
    """sha256 over the examples in a canonical form: the training-data fingerprint."""
    digest = hashlib.sha256()
    for ex in sorted(examples, key=lambda e: e.id):
        digest.update(json.dumps([ex.id, ex.subject, ex.text, ex.channel, ex.labels], sort_keys=True,
                                 ensure_ascii=False).encode())
    return digest.hexdigest()
