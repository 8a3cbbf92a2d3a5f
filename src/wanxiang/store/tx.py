"""Transactions that suit both dialects: SQLite writers take the write lock up front."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine

from wanxiang.store.db import is_sqlite


class Tx:
    """A connection in one transaction: commit on success, roll back on error, always close."""

    def __init__(self, engine: Engine, *, write: bool) -> None:
        conn = engine.connect()
        if write and is_sqlite(engine):
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
        self.conn: Connection = conn

    def __enter__(self) -> Connection:
        self.conn.begin()
        return self.conn

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if exc_type is None:
                self.conn.commit()
            else:
                self.conn.rollback()
        finally:
            self.conn.close()


def write(engine: Engine) -> Tx:
    return Tx(engine, write=True)


def read(engine: Engine) -> Tx:
    return Tx(engine, write=False)
