"""Studio training jobs: their state and progress (shown by any worker) and their log lines.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "parley_training_jobs",
        sa.Column("job_id", sa.String(32), primary_key=True),
        sa.Column("project", sa.String(1024), nullable=False),
        sa.Column("running", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("stage_done", sa.Integer),
        sa.Column("stage_total", sa.Integer),
        sa.Column("stage_what", sa.String(255)),
        sa.Column("started_by", sa.String(255), nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("finished_at", sa.Float),
        sa.Column("heartbeat_at", sa.Float, nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer),
        sa.Column("cancel_requested", sa.Integer, nullable=False),
        sa.Column("version", sa.String(128)),
        sa.Column("model", sa.String(1024)),
        sa.Column("error", sa.Text),
        sa.UniqueConstraint("running", name="uq_parley_training_jobs_running"),
    )
    op.create_index("ix_parley_training_jobs_started_at", "parley_training_jobs", ["started_at"])
    op.create_table(
        "parley_training_log",
        sa.Column("job_id", sa.String(32), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("line", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("parley_training_log")
    op.drop_index("ix_parley_training_jobs_started_at", "parley_training_jobs")
    op.drop_table("parley_training_jobs")
