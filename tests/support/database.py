"""Real databases for tests: a SQLite file, or a fresh schema in the PostgreSQL at 127.0.0.1:5432."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

PG_URL = os.environ.get("WANXIANG_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
RUN_ID = uuid.uuid4().hex[:8]


def postgres_available() -> bool:
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except OperationalError:
        return False


def require_postgres() -> None:
    if postgres_available():
        return
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL at {PG_URL} is unreachable; CI must exercise it")
    pytest.skip(f"PostgreSQL at {PG_URL} is unreachable (start it to run these tests)")


def new_schema_name(label: str = "t") -> str:
    return f"wx_{RUN_ID}_{label}_{uuid.uuid4().hex[:6]}"
