"""Each interview records what its analysis reads: "emotions,behaviour" (the default) or "behaviour" only.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Interviews uploaded before this column were analysed with both signals (the worker's default).
    with op.batch_alter_table("interviews") as batch:
        batch.add_column(
            sa.Column("signals", sa.String(length=32), nullable=False, server_default="emotions,behaviour")
        )


def downgrade() -> None:
    with op.batch_alter_table("interviews") as batch:
        batch.drop_column("signals")
