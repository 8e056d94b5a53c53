"""mailbox state of the IMAP tagger

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 10:00:00

`mailbox_state`: UIDVALIDITY and last UID handled per (mailbox, folder).
`mailbox_messages`: where each stored mail lies on the server, with its fingerprints.
Models in triage/store/mailbox_state.py.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mailbox_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mailbox", sa.String(length=300), nullable=False),
        sa.Column("folder", sa.String(length=300), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mailbox", "folder", name="uq_mailbox_state_folder"),
    )
    op.create_table(
        "mailbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("mailbox", sa.String(length=300), nullable=False),
        sa.Column("folder", sa.String(length=300), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("uid", sa.BigInteger(), nullable=False),
        sa.Column("raw_sha256", sa.String(length=64), nullable=False),
        sa.Column("header_message_id", sa.String(length=500), nullable=False),
        sa.Column("quarantined", sa.Boolean(), nullable=False),
        sa.Column("copied_to", sa.String(length=300), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("mailbox_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mailbox_messages_message_id"), ["message_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_mailbox_messages_raw_sha256"), ["raw_sha256"], unique=False)
        batch_op.create_index(batch_op.f("ix_mailbox_messages_header_message_id"), ["header_message_id"],
                              unique=False)
        batch_op.create_index("ix_mailbox_messages_location", ["mailbox", "folder", "uidvalidity", "uid"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mailbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_mailbox_messages_location")
        batch_op.drop_index(batch_op.f("ix_mailbox_messages_header_message_id"))
        batch_op.drop_index(batch_op.f("ix_mailbox_messages_raw_sha256"))
        batch_op.drop_index(batch_op.f("ix_mailbox_messages_message_id"))
    op.drop_table("mailbox_messages")
    op.drop_table("mailbox_state")
