"""The command journal.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "journal",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("ts", sa.BigInteger, nullable=False),
        sa.Column("command", sa.Text, nullable=False),
        sa.Column("event_hash", sa.String(64), nullable=False),
        sa.Column("crc", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("journal")
