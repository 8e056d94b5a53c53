"""krm-triage: suggests categories, urgency, sender, routing and language for messages to a
Jobcenter's complaints office (KRM / Ombudsstelle)."""

__version__ = "0.1.0"
