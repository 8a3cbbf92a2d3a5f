"""The styles table on SQLite and PostgreSQL: a name per bucket, put again replaces the body."""

from __future__ import annotations

import threading
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


def test_a_style_body_reads_back_byte_for_byte(store: Store) -> None:
    body = "imageMogr2/thumbnail/!50p|watermark/2/text/5LiH6LGh/font/5b6u6L2v6ZuF6buR/fill/I0ZGRkZGRg"
    store.styles.put("a-1250000000", "水印_1", body, T0)
    found = store.styles.get("a-1250000000", "水印_1")
    assert found is not None and found.body == body


def test_deleting_no_names_deletes_nothing(store: Store) -> None:
    store.styles.put("a-1250000000", "thumb", "imageMogr2/thumbnail/50x", T0)
    assert store.styles.delete("a-1250000000", []) == 0
    assert [s.name for s in store.styles.list("a-1250000000")] == ["thumb"]


def test_many_requests_putting_one_new_name_at_once_leave_one_style(store: Store) -> None:
    bodies = [f"imageMogr2/thumbnail/{n}x" for n in range(10, 18)]
    start = threading.Barrier(len(bodies))
    errors: list[BaseException] = []

    def put(body: str) -> None:
        start.wait()
        try:
            store.styles.put("a-1250000000", "thumb", body, T0)
        except BaseException as exc:  # the test reports it below
            errors.append(exc)

    threads = [threading.Thread(target=put, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    [style] = store.styles.list("a-1250000000")
    assert style.name == "thumb" and style.body in bodies
