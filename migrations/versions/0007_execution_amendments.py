"""Busted and corrected trades: an execution's row says which it was (its px and qty are
then the corrected ones, qty 0 once busted).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    with op.batch_alter_table("executions") as executions:
        executions.add_column(sa.Column("amended", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("executions") as executions:
        executions.drop_column("amended")
