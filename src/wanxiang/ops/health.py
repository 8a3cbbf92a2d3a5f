"""What ``/-/ready`` and ``/-/metrics`` ask of the database and the storage.

Each readiness check returns ``""`` when it passes, or the reason it failed; the checks run with a
deadline, so a database that hangs makes the server not ready rather than the probe hang.
"""

from __future__ import annotations

import concurrent.futures
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from sqlalchemy import text

from wanxiang.storage.base import ObjectStorage
from wanxiang.store.store import Store

Check = Callable[[], str]
_pool = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="ready")


@cache
def migration_head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from wanxiang.store.db import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return str(ScriptDirectory.from_config(config).get_current_head())


def database_check(store: Store) -> Check:
    def check() -> str:
        try:
            with store.engine.connect() as conn:
                version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except Exception as exc:
            return f"the database does not answer: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
        if version != migration_head():
            return f"the database schema is at {version}, this server needs {migration_head()}"
        return ""

    return check


def storage_check(storage: ObjectStorage) -> Check:
    def check() -> str:
        try:
            root = getattr(storage, "root", None)
            if isinstance(root, Path):  # a local folder: prove it takes a write
                with tempfile.NamedTemporaryFile(dir=root, prefix=".ready-"):
                    pass
            else:
                storage.list_buckets()
        except Exception as exc:
            return f"the storage is not writable: {type(exc).__name__}: {exc}"
        return ""

    return check


@dataclass
class Readiness:
    checks: dict[str, Check] = field(default_factory=dict)
    timeout: float = 3.0

    def run(self) -> dict[str, str]:
        """Name -> "ok" or the reason the check failed."""
        futures = {name: _pool.submit(check) for name, check in self.checks.items()}
        results: dict[str, str] = {}
        for name, future in futures.items():
            try:
                results[name] = future.result(timeout=self.timeout) or "ok"
            except concurrent.futures.TimeoutError:
                results[name] = f"no answer within {self.timeout:g} s"
            except Exception as exc:  # a check that breaks is a failed check
                results[name] = f"{type(exc).__name__}: {exc}"
        return results


def queue_depth(store: Store) -> tuple[dict[tuple[str, str], int], int]:
    """(queue, state) -> jobs, for the states a queue holds (each count walks its partial index),
    and the callbacks still Pending."""
    depth: dict[tuple[str, str], int] = {}
    with store.engine.connect() as conn:
        for state in ("Submitted", "Running"):
            rows = conn.execute(
                text(f"SELECT queue_id, count(*) FROM jobs WHERE state = '{state}' GROUP BY queue_id")
            ).all()
            for queue_id, count in rows:
                depth[(str(queue_id), state)] = int(count)
        backlog = conn.execute(text("SELECT count(*) FROM callbacks WHERE state = 'Pending'")).scalar()
    return depth, int(backlog or 0)
