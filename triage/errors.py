"""One exception tree for the whole project, with short codes that tests and logs can match.

Every message lives in `MESSAGES`, so wording is kept in one place (as spaCy's Errors catalogue).
Library code raises these; only the edges (CLI, API) turn them into exit codes or HTTP answers.
"""
from __future__ import annotations

__all__ = [
    "TriageError",
    "TaxonomyError",
    "InputError",
    "DataError",
    "ModelError",
    "RegistryError",
    "IntegrityError",
    "NotFoundError",
    "ConflictError",
    "ValidationError",
    "MailError",
    "MailboxError",
    "StoreError",
]

MESSAGES: dict[str, str] = {
    "T001": "Kategorienbaum {path} ist nicht lesbar: {reason}",
    "T002": "Kategorienbaum {path}: doppelter Code {code}",
    "T003": "Kategorienbaum {path}: Bereich {area} leitet an unbekannte Stelle {unit}",
    "T004": "Kategorienbaum {path}: {reason}",
    "I001": "Leerer Text: es gibt nichts zu klassifizieren",
    "I002": "Datei {path} ist nicht lesbar: {reason}",
    "I003": "{path}, Zeile {line}: {reason}",
    "I004": "Unbekanntes Eingabeformat {suffix}: erwartet .txt, .eml oder .jsonl",
    "I005": "Bitte entweder TEXT oder --input angeben",
    "D001": "{where}: unbekannter Code {code!r} im Feld {field}",
    "D002": "{where}: {reason}",
    "D003": "Keine Trainingsdaten unter {path}",
    "M001": "Modell ist nicht trainiert: erst fit() aufrufen",
    "M002": "Kein aktives Modell im Register {path}: erst `triage train` ausführen",
    "R001": "Modellversion {version} gibt es im Register {path} nicht",
    "R002": "Modellversion {version} existiert bereits",
    "R003": "Manifest von {version} ist nicht lesbar: {reason}",
    "S001": "Artefakt {name} von {version} stimmt nicht mit dem Manifest überein (sha256): Ladevorgang verweigert",
    "S002": "Manifest von {version} ist nicht von diesem Register signiert: fremdes oder verändertes Modell, "
            "Ladevorgang verweigert",
    "S003": "Artefakt {name} von {version} steht nicht im Manifest: Ladevorgang verweigert",
    "S004": "Artefakt {name} von {version} fehlt",
    "B001": "Datenbank {url} nicht erreichbar oder nicht nutzbar: {reason}",
    "N001": "Nachricht {id} gibt es nicht",
    "C001": "Nachricht {id} wurde inzwischen geändert (aktuelle Version {current}, gesendet {sent}): bitte neu laden",
    "V001": "{field}: {reason}",
    "U001": "Benutzer {name} gibt es schon",
    "U002": "Unbekannte Rolle {role!r}: erlaubt sind {allowed}",
    "M101": "E-Mail nicht lesbar: {reason}",
    "M102": "Mailquelle {path} ist nicht lesbar: {reason}",
    "M103": "Unbekannte Mailquelle {path}: erwartet eine .eml-Datei, eine mbox-Datei oder einen Maildir-Ordner",
    "M104": "Mail-Muster {path} sind nicht lesbar: {reason}",
    "M201": "IMAP-Server {server} nicht erreichbar oder Verbindung abgebrochen: {reason}",
    "M202": "IMAP-Anmeldung als {user} an {server} abgelehnt: {reason}",
    "M203": "IMAP-Ordner {folder} gibt es nicht oder er ist nicht lesbar: {reason}",
    "M204": "IMAP-Befehl {command} vom Server abgelehnt: {reason}",
    "M205": "TLS mit {server} fehlgeschlagen: {reason}",
    "M206": "IMAP-Passwort fehlt: bitte die Umgebungsvariable TRIAGE_IMAP_PASSWORD setzen",
    "M207": "Unbekannte Verbindungssicherheit {security!r}: erlaubt sind tls, starttls, none",
    "M208": "IMAP-Server {server} kann {capability} nicht",
    "M209": "Ungültiges IMAP-Schlagwort {keyword!r}: {reason}",
}


class TriageError(Exception):
    """Base of every error the project raises on purpose. `code` names the catalogue entry."""

    code = "E000"

    def __init__(self, code: str, /, **fields: object) -> None:
        self.code = code
        self.fields = fields
        self.message = MESSAGES[code].format(**fields)
        super().__init__(f"[{code}] {self.message}")


class TaxonomyError(TriageError):
    """The category tree file is missing, unreadable or inconsistent."""


class InputError(TriageError):
    """A message or an input file cannot be read or classified."""


class DataError(TriageError):
    """Training or evaluation data do not follow the label specification."""


class ModelError(TriageError):
    """A model is missing or used in the wrong state."""


class RegistryError(TriageError):
    """The model registry cannot find or store a version."""


class IntegrityError(RegistryError):
    """An artefact failed its hash or signature check and was not loaded."""


class NotFoundError(TriageError):
    """A stored record does not exist."""


class ConflictError(TriageError):
    """Someone else changed the record since it was read (optimistic locking)."""


class ValidationError(TriageError):
    """A request names unknown codes or values."""


class MailError(InputError):
    """An e-mail or a mail source (eml, mbox, Maildir) cannot be read."""


class MailboxError(TriageError):
    """An IMAP mailbox cannot be reached, refuses a command or is configured wrongly.

    `transient` tells whether trying again later may help (connection lost, server restarting).
    """

    TRANSIENT = frozenset({"M201"})

    @property
    def transient(self) -> bool:
        return self.code in self.TRANSIENT


class StoreError(TriageError):
    """The database cannot be reached or opened."""
