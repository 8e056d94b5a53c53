"""Prometheus metrics of the service."""
from prometheus_client import Counter, Histogram

CLASSIFY_SECONDS = Histogram("krm_triage_classify_seconds", "Zeit für eine Klassifikation")
MESSAGES_STORED = Counter("krm_triage_messages_stored_total", "gespeicherte Nachrichten", ["channel"])
REVIEWS = Counter("krm_triage_reviews_total", "Prüfungen durch Mitarbeitende", ["action"])
REQUESTS = Counter("krm_triage_http_requests_total", "HTTP-Anfragen", ["method", "status"])
