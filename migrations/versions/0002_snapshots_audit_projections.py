"""Snapshots, the audit trail, and the orders/executions/sessions projections.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"

_ROW_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "snapshots",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("ts", sa.BigInteger, nullable=False),
        sa.Column("format", sa.String(64), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("state_hash", sa.String(64), nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "audit",
        sa.Column("id", _ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("ts", sa.BigInteger, nullable=False),
        sa.Column("session", sa.String(128)),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
    )
    op.create_index("ix_audit_seq", "audit", ["seq"])
    _forbid_changes_to_audit()
    op.create_table(
        "orders",
        sa.Column("order_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("session", sa.String(128), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("cl_ord_id", sa.String(128), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("ord_type", sa.String(16), nullable=False),
        sa.Column("tif", sa.String(8), nullable=False),
        sa.Column("px", sa.BigInteger),
        sa.Column("qty", sa.BigInteger, nullable=False),
        sa.Column("cum_qty", sa.BigInteger, nullable=False),
        sa.Column("leaves_qty", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("accepted_seq", sa.BigInteger, nullable=False),
        sa.Column("updated_seq", sa.BigInteger, nullable=False),
        sa.Column("updated_ts", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_orders_session", "orders", ["session"])
    op.create_table(
        "executions",
        sa.Column("trade_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("order_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("ts", sa.BigInteger, nullable=False),
        sa.Column("session", sa.String(128), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("cl_ord_id", sa.String(128), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("px", sa.BigInteger, nullable=False),
        sa.Column("qty", sa.BigInteger, nullable=False),
        sa.Column("cum_qty", sa.BigInteger, nullable=False),
        sa.Column("leaves_qty", sa.BigInteger, nullable=False),
        sa.Column("aggressor", sa.Boolean, nullable=False),
        sa.Column("contra_order_id", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_executions_session", "executions", ["session"])
    op.create_table(
        "sessions",
        sa.Column("session_key", sa.String(128), primary_key=True),
        sa.Column("begin_string", sa.String(16), nullable=False),
        sa.Column("sender_comp_id", sa.String(64), nullable=False),
        sa.Column("target_comp_id", sa.String(64), nullable=False),
        sa.Column("next_sender_seq", sa.BigInteger, nullable=False),
        sa.Column("next_target_seq", sa.BigInteger, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("updated_ts", sa.BigInteger, nullable=False),
    )


def _forbid_changes_to_audit() -> None:
    """The audit trail is append-only in the database itself, not just by convention."""
    if op.get_bind().dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_no_{action.lower()} BEFORE {action} ON audit "
                "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"
            )
        return
    op.execute(
        "CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END $$"
    )
    op.execute(
        "CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit "
        "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"
    )


def downgrade() -> None:
    op.drop_table("sessions")
    op.drop_index("ix_executions_session", "executions")
    op.drop_table("executions")
    op.drop_index("ix_orders_session", "orders")
    op.drop_table("orders")
    op.drop_index("ix_audit_seq", "audit")
    op.drop_table("audit")
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION audit_append_only()")
    op.drop_table("snapshots")
