"""where mails of deleted messages lie in the mailbox

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 05:00:00

`mailbox_tombstones`: for a message deleted for data protection, where its mail lies on the
server and the sha256 of its bytes (nothing of its content), so the tagger removes its keywords
and never stores it again. Model in triage/store/mailbox_state.py.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mailbox_tombstones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mailbox", sa.String(length=300), nullable=False),
        sa.Column("folder", sa.String(length=300), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("uid", sa.BigInteger(), nullable=False),
        sa.Column("raw_sha256", sa.String(length=64), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("mailbox_tombstones", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mailbox_tombstones_raw_sha256"), ["raw_sha256"], unique=False)
        batch_op.create_index("ix_mailbox_tombstones_location", ["mailbox", "folder", "uidvalidity", "uid"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mailbox_tombstones", schema=None) as batch_op:
        batch_op.drop_index("ix_mailbox_tombstones_location")
        batch_op.drop_index(batch_op.f("ix_mailbox_tombstones_raw_sha256"))
    op.drop_table("mailbox_tombstones")
