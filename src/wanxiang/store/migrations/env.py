"""Alembic environment: the connection comes from wanxiang.store.db (config.attributes["connection"])."""

from __future__ import annotations

from alembic import context

import wanxiang.store.schema_flows  # noqa: F401
import wanxiang.store.schema_styles  # noqa: F401
from wanxiang.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("wanxiang migrations run through wanxiang.store.db.migrate(), which passes a connection")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
