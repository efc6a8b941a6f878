"""Access control: users, sessions, API tokens, signing keys, used one-time ids and the hash-chained audit log.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "parley_access_users",
        sa.Column("username", sa.String(255), primary_key=True),
        sa.Column("role", sa.String(64), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("display_name", sa.String(255)),
        sa.Column("email", sa.String(255)),
        sa.Column("password_hash", sa.String(255)),
        sa.Column("totp_secret", sa.String(64)),
        sa.Column("disabled", sa.Integer, nullable=False),
        sa.Column("failed_logins", sa.Integer, nullable=False),
        sa.Column("locked_until", sa.Float),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("last_login", sa.Float),
    )
    op.create_table(
        "parley_access_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(255), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("last_seen", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("ip", sa.String(64)),
    )
    op.create_index("ix_parley_access_sessions_username", "parley_access_sessions", ["username"])
    op.create_table(
        "parley_access_tokens",
        sa.Column("token_id", sa.String(32), primary_key=True),
        sa.Column("username", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("scopes", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float),
        sa.Column("last_used", sa.Float),
        sa.Column("revoked_at", sa.Float),
    )
    op.create_index("ix_parley_access_tokens_username", "parley_access_tokens", ["username"])
    op.create_table(
        "parley_access_keys",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(128), nullable=False),
    )
    op.create_table(
        "parley_access_used_ids",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_index(
        "ix_parley_access_used_ids_expires_at", "parley_access_used_ids", ["expires_at"]
    )
    op.create_table(
        "parley_audit_log",
        sa.Column("id", _ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(255)),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("ip", sa.String(64)),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    for column in ("at", "actor", "action"):
        op.create_index(f"ix_parley_audit_log_{column}", "parley_audit_log", [column])


def downgrade() -> None:
    op.drop_table("parley_audit_log")
    op.drop_table("parley_access_used_ids")
    op.drop_table("parley_access_keys")
    op.drop_table("parley_access_tokens")
    op.drop_table("parley_access_sessions")
    op.drop_table("parley_access_users")
