"""The database: engine, sessions and migrations.

`configure(settings)` opens (or reuses) the database named by the settings and makes it the default;
`session_scope()` is a transaction that commits on success and rolls back on error; `get_session` is the
same as a FastAPI dependency (it uses the app's database, so two apps in one process stay apart).

SQLite runs in WAL mode with a busy timeout, and every transaction starts with BEGIN IMMEDIATE: writers queue
for the lock instead of failing half-way, which keeps job claiming and the audit chain atomic there as they
are on PostgreSQL.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import Depends, Request
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from facecue.errors import FacecueError
from facecue.service.settings import Settings

MIGRATIONS = Path(__file__).with_name("migrations")
MAX_SESSIONS = 16  # see SessionDep


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def migrate(self) -> None:
        upgrade(self.engine)


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise FacecueError(
            "FACECUE_DATABASE_URL is not a database URL (e.g. sqlite:///path/facecue.db or "
            "postgresql+psycopg://user:password@host/db)."
        ) from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _private_file(Path(parsed.database))
        engine = create_engine(
            parsed, connect_args={"timeout": 30, "check_same_thread": False}, pool_size=MAX_SESSIONS + 4, max_overflow=8
        )
        _sqlite_locking(engine)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # the driver we install
    return create_engine(parsed, pool_pre_ping=True, pool_size=MAX_SESSIONS + 4, max_overflow=16)


def _private_file(path: Path) -> None:
    """Create the SQLite file readable by this account only (mode 600); its -wal and -shm files take the same
    mode from it. An existing file is narrowed too."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)


def _sqlite_locking(engine: Engine) -> None:
    # SQLAlchemy's documented recipe: take over BEGIN from the sqlite3 module, then begin IMMEDIATE ourselves.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # WAL stays consistent on a crash; fsync at checkpoints
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA secure_delete=ON")  # deleted rows are overwritten, not left in free pages
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def after_erasure(session: Session) -> None:
    """On SQLite, copy the WAL back into the (secure_delete) database file and empty it: until then the erased
    rows' old pages are still readable in the -wal file. Best effort: a long reader can hold the checkpoint
    back; a later one finishes it. PostgreSQL reuses dead tuples' space itself (VACUUM)."""
    if session.get_bind().dialect.name != "sqlite":
        return
    raw = session.get_bind().raw_connection()
    try:
        raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    finally:
        raw.close()


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (Alembic, the env and versions shipped in the package)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        connection.commit()


_default: Database | None = None
_open: dict[str, Database] = {}


def open_database(url: str) -> Database:
    """One Database (engine and pool) per URL per process."""
    if url not in _open:
        _open[url] = Database(url)
    return _open[url]


def configure(settings: Settings, migrate: bool = False) -> Database:
    """Open the settings' database, make it the default for session_scope(), and migrate it when asked."""
    global _default
    _default = open_database(settings.database_url)
    if migrate:
        _default.migrate()
    return _default


@contextmanager
def session_scope(database: Database | None = None) -> Iterator[Session]:
    """A transaction on `database` (default: the configured one)."""
    database = database or _default
    if database is None:
        raise RuntimeError("facecue.service.db.configure(settings) was not called")
    with database.session() as session:
        yield session


def get_session(request: Request) -> Iterator[Session]:
    """FastAPI dependency: one transaction per request, on the app's database.

    Use it as `Depends(get_session, scope="function")` (`SessionDep`): the transaction then commits before the
    response goes out, so a client that gets a 201 can read what it made. However it is declared, a request
    gets one session (a second one would wait on SQLite's write lock held by the first).
    """
    existing = getattr(request.state, "db_session", None)
    if existing is not None:
        yield existing  # its owner commits
        return
    with request.app.state.db.session() as session:
        request.state.db_session = session
        try:
            yield session
        finally:
            request.state.db_session = None


# At most this many requests hold a session at once, and the waiting ones hold no thread. Without the cap, a
# burst of requests can fill the thread pool with ones waiting for SQLite's write lock, while the request that
# holds the lock waits for a thread to commit in: a deadlock until the busy timeout.
SessionDep = Depends(get_session, scope="function", max_concurrency=MAX_SESSIONS)
