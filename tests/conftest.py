"""Fixtures that build real things: databases, a live server on a free port, the official SDK client."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.support.database import PG_URL, new_schema_name, require_postgres
from tests.support.server import RunningServer, start_server
from wanxiang.store.db import create_schema, drop_schema, open_engine
from wanxiang.store.store import Store
from wanxiang.testing import cos_client_for

pytest_plugins = ["pytester"]  # tests/devkit/test_pytest_plugin.py runs a throwaway project


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated store on real SQLite, and on a fresh schema of the real PostgreSQL."""
    if request.param == "sqlite":
        opened = Store.open(f"sqlite:///{tmp_path / 'wanxiang.db'}")
        yield opened
        opened.close()
        return
    require_postgres()
    schema = new_schema_name("store")
    admin = open_engine(PG_URL)
    create_schema(admin, schema)
    opened = Store.open(PG_URL, schema=schema)
    try:
        yield opened
    finally:
        opened.close()
        drop_schema(admin, schema)
        admin.dispose()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One live `wanxiang serve` (SQLite + local folder, 2 workers) shared by the SDK tests."""
    running = start_server(tmp_path_factory.mktemp("server"), "--workers", "2", "--callback-backoff", "0.2")
    yield running
    running.stop()


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A live server on a fresh PostgreSQL schema."""
    require_postgres()
    schema = new_schema_name("srv")
    running = start_server(
        tmp_path_factory.mktemp("pgserver"),
        "--workers", "2", "--database-url", PG_URL, "--database-schema", schema,
    )
    yield running
    running.stop()
    admin = open_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def sdk_client(running: RunningServer):  # type: ignore[no-untyped-def]
    return cos_client_for(running)  # the plugin's client, with the server's credentials


@pytest.fixture
def cos(server: RunningServer):  # type: ignore[no-untyped-def]
    return sdk_client(server)


@pytest.fixture
def bucket() -> str:
    """A bucket of its own for each test, so tests sharing a server do not see each other's jobs."""
    return f"t{uuid.uuid4().hex[:10]}-1250000000"
