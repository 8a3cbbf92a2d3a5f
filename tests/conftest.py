"""Fixtures that build real things: databases, a live server on a free port, the official SDK client."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from tests.support import processes
from tests.support.database import PG_URL, new_schema_name, require_postgres
from tests.support.seaweedfs import SeaweedFS, start_seaweedfs
from tests.support.server import RunningServer, start_server
from wanxiang.store.db import create_schema, drop_schema, migrate, open_engine
from wanxiang.store.schema import metadata
from wanxiang.store.store import Store
from wanxiang.testing import cos_client_for

pytest_plugins = ["pytester"]  # tests/devkit/test_pytest_plugin.py runs a throwaway project


@pytest.fixture(scope="session", autouse=True)
def no_process_left_behind() -> Iterator[None]:
    """Fails the run if any process the suite started (servers, their workers, the resource
    trackers of their pools) is still alive at the end."""
    processes.become_subreaper()
    yield
    import multiprocessing.resource_tracker as tracker

    ours = {pid for pid in [getattr(tracker._resource_tracker, "_pid", None)] if pid}  # pytest's own tracker
    left = processes.leftovers(ignore=ours)
    report = [f"{pid}: {processes.command_line(pid)}" for pid in left]
    processes.kill(left)
    processes.reap_zombies()
    if left:
        pytest.fail("processes started by the test suite were left running:\n" + "\n".join(report), pytrace=False)


@pytest.fixture(scope="session")
def pg_store_engine() -> Iterator[Engine]:
    """One migrated schema of the real PostgreSQL for this test run (emptied before each test)."""
    require_postgres()
    schema = new_schema_name("store")
    admin = open_engine(PG_URL)
    create_schema(admin, schema)
    engine = open_engine(PG_URL, schema=schema)
    try:
        migrate(engine)
        yield engine
    finally:
        engine.dispose()
        drop_schema(admin, schema)
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated, empty store on real SQLite, and on the run's schema of the real PostgreSQL."""
    if request.param == "sqlite":
        opened = Store.open(f"sqlite:///{tmp_path / 'wanxiang.db'}")
        yield opened
        opened.close()
        return
    engine: Engine = request.getfixturevalue("pg_store_engine")
    # Deleting a test's few rows costs far less than a new schema and its migrations (or a
    # TRUNCATE, which rewrites every table's files); tests/contract/test_schema.py checks the
    # migrations on fresh schemas. A test that left a lock behind makes this fail, not hang.
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL lock_timeout = '20s'"))
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
    yield Store(engine)


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    """One real SeaweedFS (S3 gateway) for the whole session; each user takes a prefix of its own."""
    try:
        running = start_seaweedfs(tmp_path_factory.mktemp("seaweedfs"))
    except RuntimeError as error:
        if os.environ.get("CI"):
            pytest.fail(f"SeaweedFS could not start; CI must exercise the S3 backend: {error}")
        pytest.skip(f"SeaweedFS could not start: {error}")
    yield running
    running.stop()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One live `wanxiang serve` (SQLite + local folder, 2 workers) shared by the SDK tests."""
    running = start_server(tmp_path_factory.mktemp("server"), "--workers", "2", "--callback-backoff", "0.2")
    yield running
    running.stop()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory, seaweedfs: SeaweedFS) -> Iterator[RunningServer]:
    """A live server whose objects live in the session's SeaweedFS (SQLite for jobs, 1 worker)."""
    running = start_server(
        tmp_path_factory.mktemp("s3server"), "--workers", "1", "--storage-url", seaweedfs.storage_url("server")
    )
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


@pytest.fixture(scope="session")
def mq_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A live server with a RabbitMQ broker for TDMQ callbacks, 2 workers, and a short lease (its
    workers renew every second, so a cancel reaches a running job quickly)."""
    from tests.support.rabbit import MQ_URL, require_rabbitmq

    require_rabbitmq()
    running = start_server(
        tmp_path_factory.mktemp("mqserver"),
        "--workers", "2", "--lease-seconds", "3", "--callback-backoff", "1", "--mq-url", MQ_URL,
    )
    yield running
    running.stop()


def sdk_client(running: RunningServer):  # type: ignore[no-untyped-def]
    return cos_client_for(running)  # the plugin's client, with the server's credentials


@pytest.fixture
def cos(server: RunningServer):  # type: ignore[no-untyped-def]
    return sdk_client(server)


@pytest.fixture
def bucket() -> str:
    """A bucket of its own for each test, so tests sharing a server do not see each other's jobs."""
    return f"t{uuid.uuid4().hex[:10]}-1250000000"
