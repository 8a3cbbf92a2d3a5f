"""Templates, on SQLite and PostgreSQL: saved params per bucket, edits, deletes, filtered pages."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from tests.support.builders import BUCKET, OTHER_BUCKET, REGION, T0, at, pic_job, template
from wanxiang.store.store import Store

ANIMATION = {
    "Container": {"Format": "gif"},
    "Video": {"Codec": "gif", "Width": "320", "Fps": "15", "AnimateOnlyKeepKeyFrame": "true"},
    "TimeInterval": {"Start": "0", "Duration": "3"},
}


def test_a_saved_template_reads_back_with_its_params_unchanged(store: Store) -> None:
    saved = template(name="动图-小", tag="Animation", params=ANIMATION)
    store.templates.insert(saved)
    assert store.templates.get(BUCKET, saved.template_id) == saved


def test_a_template_is_invisible_to_other_buckets(store: Store) -> None:
    saved = template()
    store.templates.insert(saved)

    assert store.templates.get(OTHER_BUCKET, saved.template_id) is None
    assert store.templates.update(OTHER_BUCKET, saved.template_id, "stolen", {}, at(1)) is None
    assert not store.templates.delete(OTHER_BUCKET, saved.template_id)
    assert store.templates.list(OTHER_BUCKET) == ([], 0)
    assert store.templates.get(BUCKET, saved.template_id) == saved


def test_template_update_changes_name_params_and_update_time_only(store: Store) -> None:
    saved = template(name="thumb")
    store.templates.insert(saved)
    params = {"PicProcess": {"ProcessRule": "imageMogr2/thumbnail/128x", "IsPicInfo": "true"}}

    updated = store.templates.update(BUCKET, saved.template_id, "thumb-128", params, at(30))

    assert updated is not None
    assert (updated.name, updated.params, updated.update_time) == ("thumb-128", params, at(30))
    assert (updated.template_id, updated.tag, updated.category, updated.create_time) == (
        saved.template_id, saved.tag, saved.category, T0)


def test_template_update_keeps_queued_jobs_params(store: Store) -> None:
    """A job takes its template's params at submit; editing the template later does not reach it."""
    store.queues.ensure_bucket(BUCKET, REGION, T0)
    saved = template(params={"PicProcess": {"ProcessRule": "imageMogr2/thumbnail/64x"}})
    store.templates.insert(saved)
    at_submit = store.templates.get(BUCKET, saved.template_id)
    assert at_submit is not None
    queued = pic_job(params=at_submit.params)
    store.jobs.insert([queued])

    store.templates.update(BUCKET, saved.template_id, "thumb", {"PicProcess": {"ProcessRule": "imageMogr2/rotate/90"}},
                           at(5))

    job = store.jobs.get(queued.job_id)
    assert job is not None and job.params == {"PicProcess": {"ProcessRule": "imageMogr2/thumbnail/64x"}}


def test_delete_says_whether_the_template_existed(store: Store) -> None:
    saved = template()
    store.templates.insert(saved)
    assert store.templates.delete(BUCKET, saved.template_id)
    assert store.templates.get(BUCKET, saved.template_id) is None
    assert not store.templates.delete(BUCKET, saved.template_id)


def test_a_template_id_is_stored_once(store: Store) -> None:
    saved = template()
    store.templates.insert(saved)
    with pytest.raises(IntegrityError):
        store.templates.insert(saved)
    assert store.templates.list(BUCKET)[1] == 1


def test_list_shows_newest_first_filtered_by_tag_ids_and_name_prefix(store: Store) -> None:
    thumb = template(name="thumb-small", created=at(1))
    gif = template(name="thumb-gif", tag="Animation", params=ANIMATION, created=at(2))
    rotate = template(name="rotate", created=at(3))
    for saved in (thumb, gif, rotate):
        store.templates.insert(saved)

    def names(**filters: object) -> list[str]:
        found, total = store.templates.list(BUCKET, **filters)  # type: ignore[arg-type]
        assert total == len(found)
        return [t.name for t in found]

    assert names() == ["rotate", "thumb-gif", "thumb-small"]
    assert names(tag="PicProcess") == ["rotate", "thumb-small"]
    assert names(name="thumb") == ["thumb-gif", "thumb-small"]
    assert names(tag="Animation", name="thumb") == ["thumb-gif"]
    assert names(ids=[thumb.template_id, rotate.template_id, "t1nosuch"]) == ["rotate", "thumb-small"]


def test_name_prefix_takes_percent_and_underscore_literally(store: Store) -> None:
    for name in ("50%_off", "50x_off", "500_off", "50%xoff"):
        store.templates.insert(template(name=name))
    assert [t.name for t in store.templates.list(BUCKET, name="50%_")[0]] == ["50%_off"]


def test_pages_by_number_cover_every_template_once_and_count_them_all(store: Store) -> None:
    saved = [template(name=f"t{i:02}", created=at(i)) for i in range(7)]
    for one in saved:
        store.templates.insert(one)

    pages = [store.templates.list(BUCKET, page_number=n, page_size=3) for n in (1, 2, 3, 4)]

    assert [total for _, total in pages] == [7, 7, 7, 7]
    assert [len(found) for found, _ in pages] == [3, 3, 1, 0]
    served = [t.name for found, _ in pages for t in found]
    assert served == [f"t{i:02}" for i in reversed(range(7))]
