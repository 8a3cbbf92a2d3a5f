"""A pipeline reads its input top to bottom when it can (a sequential load: no copy of the decoded
image). libvips keeps only a window of lines behind its read point, and a tall reach with a starved
libvips thread (a loaded machine, a chain of wide blurs) can fall behind it: libvips fails with
"out of order read". Such a pipeline runs again on a random-access load instead of failing the job."""

from __future__ import annotations

import pytest
import pyvips

from wanxiang.engines.pic.decode import in_order_or_at_random, load, probe

TALL = pyvips.Image.gaussnoise(300, 4000).cast("uchar")
PNG = bytes(TALL.write_to_buffer(".png"))


def upside_down(random_access: bool) -> bytes:
    """Reads the bottom line first: out of order for a sequential load, always."""
    image = load(PNG, probe(PNG), "random" if random_access else "sequential")
    return bytes(image.flip("vertical").write_to_buffer(".png"))


def test_a_pipeline_that_libvips_read_out_of_order_runs_again_at_random() -> None:
    with pytest.raises(pyvips.Error, match="out of order read"):
        upside_down(False)  # what a job used to fail with
    flipped = pyvips.Image.new_from_buffer(in_order_or_at_random(upside_down), "")
    assert (flipped.width, flipped.height) == (300, 4000)
    assert flipped.crop(0, 0, 300, 1).avg() == TALL.crop(0, 3999, 300, 1).avg()


def test_other_libvips_errors_are_not_run_again() -> None:
    runs: list[bool] = []

    def broken(random_access: bool) -> bytes:
        runs.append(random_access)
        return bytes(pyvips.Image.new_from_buffer(b"not an image", "").write_to_buffer(".png"))

    with pytest.raises(pyvips.Error):
        in_order_or_at_random(broken)
    assert runs == [False]


def test_an_input_read_in_order_is_loaded_once() -> None:
    runs: list[bool] = []

    def thumbnail(random_access: bool) -> bytes:
        runs.append(random_access)
        return bytes(load(PNG, probe(PNG), "sequential").resize(0.1).write_to_buffer(".png"))

    in_order_or_at_random(thumbnail)
    assert runs == [False]
