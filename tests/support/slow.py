"""A real job slow enough to be caught running: a very wide blur of a large image (seconds of
libvips work), so that a test can signal a server while the job runs. The image is smooth, so
its JPEG stays small to upload."""

from __future__ import annotations

import pyvips

SLOW_RULE = "imageMogr2/blur/50x200"


def large_jpeg(side: int = 3000) -> bytes:
    ramp = pyvips.Image.xyz(side, side)[0].linear(255 / side, 0).cast("uchar")
    return bytes(ramp.bandjoin([ramp.flip("horizontal"), ramp.rot90()]).write_to_buffer(".jpg", Q=80))
