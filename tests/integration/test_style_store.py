"""The styles table on SQLite and PostgreSQL: a name per bucket, put again replaces the body."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from wanxiang.store.store import Store

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_styles_are_per_bucket_and_putting_a_name_again_replaces_its_body(store: Store) -> None:
    store.styles.put("a-1250000000", "thumb", "imageMogr2/thumbnail/50x", T0)
    store.styles.put("a-1250000000", "gray", "imageMogr2/grayscale/1", T0)
    store.styles.put("b-1250000000", "thumb", "imageMogr2/thumbnail/10x", T0)
    store.styles.put("a-1250000000", "thumb", "imageMogr2/thumbnail/80x", T0 + timedelta(seconds=5))

    listed = store.styles.list("a-1250000000")
    assert [(s.name, s.body) for s in listed] == [
        ("thumb", "imageMogr2/thumbnail/80x"),
        ("gray", "imageMogr2/grayscale/1"),
    ]
    thumb = store.styles.get("a-1250000000", "thumb")
    assert thumb is not None and thumb.create_time == T0 and thumb.update_time == T0 + timedelta(seconds=5)
    assert [s.name for s in store.styles.list("a-1250000000", ["gray", "nope"])] == ["gray"]

    assert store.styles.delete("a-1250000000", ["thumb", "nope"]) == 1
    assert store.styles.get("a-1250000000", "thumb") is None
    assert store.styles.get("b-1250000000", "thumb") is not None
