"""the keywords the tagger last wrote on each mail

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 05:30:00

`mailbox_messages.written`: our keywords as last set on the server (space-separated), so that a
change made by a person in a mail client is recognised and taken as a correction instead of
being overwritten.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mailbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("written", sa.String(length=2000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mailbox_messages", schema=None) as batch_op:
        batch_op.drop_column("written")
