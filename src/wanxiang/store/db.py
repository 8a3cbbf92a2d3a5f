"""Opening the database: engine options per dialect, migrations, and the PostgreSQL schema per run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).parent / "migrations"


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{(data_dir / 'wanxiang.db').resolve()}"


def normalise_url(url: str) -> str:
    """Let users write plain ``postgresql://`` URLs; we drive PostgreSQL through psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def open_engine(url: str, *, schema: str | None = None, synchronous: str = "FULL") -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, synchronous)
    # No pre-ping: it costs a round trip per checkout on the hot path. A dropped connection is
    # invalidated by the pool when a statement fails, and the caller's retry gets a fresh one.
    kwargs: dict[str, Any] = {"pool_size": 5, "max_overflow": 10, "pool_recycle": 1800}
    if schema:
        kwargs["connect_args"] = {"options": f"-csearch_path={schema}"}
    return create_engine(url, **kwargs)


def _sqlite_engine(url: str, synchronous: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # We issue BEGIN ourselves, so that writers can take the write lock up front
        # (BEGIN IMMEDIATE) instead of failing to upgrade a read lock under contention.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def create_schema(engine: Engine, schema: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))


def drop_schema(engine: Engine, schema: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def migrate(engine: Engine, migrations: Path = MIGRATIONS) -> None:
    """Bring the database to the newest schema (idempotent; safe from several processes)."""
    config = Config()
    config.set_main_option("script_location", str(migrations))
    with engine.begin() as conn:
        if not is_sqlite(engine):
            # Two processes starting at once must not both create the tables.
            conn.execute(text("SELECT pg_advisory_xact_lock(727274)"))
        config.attributes["connection"] = conn
        # "heads": migrations written side by side on different branches (each revising the
        # same parent, each touching its own tables) all apply, instead of failing as two heads.
        command.upgrade(config, "heads")
