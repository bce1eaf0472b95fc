"""User e-mail addresses are unique per organisation, not across all of them (no cross-organisation oracle).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _users(unique_email: bool) -> sa.Table:
    """The users table as 0001 made it, with or without the global unique e-mail (SQLite rebuilds the table
    from this: its unique constraint has no name to drop)."""
    return sa.Table(
        "users",
        sa.MetaData(),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=32), sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("token_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        *([sa.UniqueConstraint("email")] if unique_email else []),
        sa.Index("ix_users_org_id", "org_id"),
    )


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        with op.batch_alter_table("users", recreate="always", copy_from=_users(unique_email=False)):
            pass
    else:
        for constraint in sa.inspect(bind).get_unique_constraints("users"):
            if constraint["column_names"] == ["email"]:
                op.drop_constraint(constraint["name"], "users", type_="unique")
    op.create_index("ix_users_email", "users", ["email"], unique=False)
    op.create_index("ix_users_org_email", "users", ["org_id", "email"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_users_org_email", "users")
    op.drop_index("ix_users_email", "users")
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        with op.batch_alter_table("users", recreate="always", copy_from=_users(unique_email=True)):
            pass
    else:
        op.create_unique_constraint("users_email_key", "users", ["email"])
