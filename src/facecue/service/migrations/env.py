"""Alembic environment: migrations run on the connection facecue.service.db.upgrade passes in, or on
FACECUE_DATABASE_URL when run with the alembic command."""

from alembic import context

from facecue.service.models import Base

connection = context.config.attributes.get("connection")


def run() -> None:
    if connection is not None:
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    from facecue.service.db import make_engine
    from facecue.service.settings import Settings

    with make_engine(Settings.from_env().database_url).connect() as conn:
        context.configure(connection=conn, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        conn.commit()


run()
