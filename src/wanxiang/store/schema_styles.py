"""The image styles table, on the shared ``metadata``: one named ProcessRule per (bucket, name)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, String, Table, Text, UniqueConstraint

from wanxiang.store.schema import metadata

styles = Table(
    "styles",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("bucket_id", String(128), nullable=False),
    Column("name", String(64), nullable=False),
    Column("body", Text, nullable=False),  # the ProcessRule as sent
    Column("create_us", BigInteger, nullable=False),
    Column("update_us", BigInteger, nullable=False),
    UniqueConstraint("bucket_id", "name", name="uq_styles_bucket_name"),
)
