"""Sessions' activity beside their sequence numbers: heartbeat interval, last message in
and out, throttle refusals and queued messages (the control plane shows them).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"

_COLUMNS = (
    "heartbeat_interval", "last_inbound_ts", "last_outbound_ts", "throttle_refusals",
    "queued_messages",
)  # fmt: skip


def upgrade() -> None:
    with op.batch_alter_table("sessions") as sessions:
        for name in _COLUMNS:
            sessions.add_column(sa.Column(name, sa.BigInteger, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sessions") as sessions:
        for name in _COLUMNS:
            sessions.drop_column(name)
