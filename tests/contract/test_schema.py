"""The schema is written twice, as tables in ``store/schema*.py`` and as migrations 0001..head.
A database built by the migrations must be the one the code declares, on both dialects."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text

import wanxiang.store.schema_flows  # noqa: F401  (puts its tables on the shared metadata)
import wanxiang.store.schema_styles  # noqa: F401  (likewise)
from tests.support.database import PG_URL, new_schema_name, require_postgres
from wanxiang.store.db import create_schema, drop_schema, migrate, open_engine
from wanxiang.store.schema import metadata


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    """Two empty databases of one dialect: one for the migrations, one for ``metadata.create_all``."""
    if request.param == "sqlite":
        pair = (open_engine(f"sqlite:///{tmp_path / 'migrated.db'}"), open_engine(f"sqlite:///{tmp_path / 'declared.db'}"))
        yield pair
        for engine in pair:
            engine.dispose()
        return
    require_postgres()
    admin = open_engine(PG_URL)
    schemas = [new_schema_name("migrated"), new_schema_name("declared")]
    for schema in schemas:
        create_schema(admin, schema)
    engines = [open_engine(PG_URL, schema=schema) for schema in schemas]
    try:
        yield engines[0], engines[1]
    finally:
        for engine in engines:
            engine.dispose()
        for schema in schemas:
            drop_schema(admin, schema)
        admin.dispose()


def test_migrations_build_the_tables_columns_and_indexes_the_code_declares(
    empty_database: tuple[Engine, Engine],
) -> None:
    migrated, _ = empty_database
    migrate(migrated)
    with migrated.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_every_index_the_migrations_build_has_the_declared_definition(empty_database: tuple[Engine, Engine]) -> None:
    """What autogenerate cannot see: partial-index predicates and sort directions, compared as
    the database itself writes each index's definition."""
    migrated, declared = empty_database
    migrate(migrated)
    metadata.create_all(declared)
    assert index_definitions(migrated) == index_definitions(declared)
    assert "ix_jobs_submitted" in index_definitions(migrated)


def test_migrating_an_up_to_date_database_changes_nothing(empty_database: tuple[Engine, Engine]) -> None:
    migrated, _ = empty_database
    migrate(migrated)
    before = index_definitions(migrated)
    migrate(migrated)
    assert index_definitions(migrated) == before


def index_definitions(engine: Engine) -> dict[str, str]:
    """Index name -> its definition as stored by the database (Alembic's bookkeeping left out)."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"))
            return {name: sql for name, sql in rows if not name.startswith("alembic")}
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        rows = conn.execute(text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"))
        return {name: sql.replace(f"{schema}.", "") for name, sql in rows if not name.startswith("alembic")}
