"""Migrations written side by side (two branches revising the same parent, as parallel work
produces) all apply, on a new database and on one already at either branch's head."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import inspect

from wanxiang.store.db import MIGRATIONS, migrate, open_engine

SIDE_BRANCH = '''"""a side branch"""
import sqlalchemy as sa
from alembic import op

revision = "side0001"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("side_branch", sa.Column("x", sa.Integer(), primary_key=True))


def downgrade() -> None:
    op.drop_table("side_branch")
'''


def test_a_side_branch_migration_applies_beside_ours_on_new_and_existing_databases(tmp_path: Path) -> None:
    ours = tmp_path / "ours"
    shutil.copytree(MIGRATIONS, ours, ignore=shutil.ignore_patterns("__pycache__"))
    both = tmp_path / "both"
    shutil.copytree(ours, both)
    (both / "versions" / "side0001_side_branch.py").write_text(SIDE_BRANCH)

    existing = open_engine(f"sqlite:///{tmp_path / 'existing.db'}")
    migrate(existing, ours)  # a database made before the side branch arrived
    assert "side_branch" not in inspect(existing).get_table_names()
    migrate(existing, both)
    new = open_engine(f"sqlite:///{tmp_path / 'new.db'}")
    migrate(new, both)
    migrate(new, both)  # and again: nothing left to do

    for engine in (existing, new):
        tables = set(inspect(engine).get_table_names())
        assert {"side_branch", "test_modes", "jobs"} <= tables
        engine.dispose()
