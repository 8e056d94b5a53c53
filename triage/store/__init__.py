"""The store: SQLAlchemy tables, Alembic migrations, data access and the audit log.

Shared by the web service, the mail tagger and retraining; SQLite (WAL) by default,
PostgreSQL by database URL, same code.
"""
