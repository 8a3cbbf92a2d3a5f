"""The pixels of a JPEG shrunk on load, decoded by libjpeg-turbo (simplejpeg) instead of libvips.

The JPEG decoder bundled with pyvips-binary is mozjpeg's; on a 12 MP photo decoded at 1/8 it
spends ~11% more CPU than libjpeg-turbo on the same Huffman decoding, and that decode is nearly
all of a thumbnail on download (bench/pic_download.py). The pixels are the same bit for bit (the
same scaled IDCT and upsampling); the image keeps every field of the header libvips read (EXIF,
ICC profile, orientation, resolution), so the steps after it cannot tell the difference.

Only where it is the same work: an 8-bit YCbCr or greyscale JPEG decoded whole into memory at the
shrunk size, within the decoding budget, without a single decoder warning. Anything else (CMYK, a
shrunk image still too large to hold, truncated or corrupt data) returns None and libvips decodes
it as before, streaming, and decides what a damaged file is (``fail_on=warning``): libjpeg-turbo
here is stricter, so a file libvips accepts is never refused because of it.
"""

from __future__ import annotations

import pyvips
import simplejpeg

from wanxiang.engines.pic.decode import ImageInput, bytes_of, size_of

# Fields libvips derives from the pixels themselves or sets on every image: not copied.
_BASIC_FIELDS = frozenset(
    {"width", "height", "bands", "format", "coding", "interpretation", "xoffset", "yoffset", "xres", "yres",
     "filename"}
)
_COLOURSPACES = {1: ("b-w", "GRAY"), 3: ("srgb", "RGB")}
MAX_FILE_BYTES = 64 << 20  # read whole here; a larger file streams through libvips


def decode_shrunk(data: ImageInput, header: pyvips.Image, shrink: int, max_bytes: int) -> pyvips.Image | None:
    """The JPEG ``data`` (``header``: as libvips opened it, nothing decoded) decoded at 1/``shrink``
    as libvips' ``shrink`` load would (each side rounded down), with every field of its header;
    None when libvips should decode it."""
    wanted = _COLOURSPACES.get(header.bands)
    if header.format != "uchar" or wanted is None or header.interpretation != wanted[0]:
        return None
    width, height = header.width // shrink, header.height // shrink
    if min(width, height) < 1 or width * height * header.bands > max_bytes or size_of(data) > MAX_FILE_BYTES:
        return None
    try:
        pixels = simplejpeg.decode_jpeg(
            bytes_of(data), colorspace=wanted[1], min_width=width, min_height=height, min_factor=shrink, strict=True
        )
    except ValueError:
        return None  # libvips decides on a damaged file, as it always has
    if not (0 <= pixels.shape[1] - width <= 1 and 0 <= pixels.shape[0] - height <= 1):
        return None  # another scale than libvips would use: let libvips do it
    image = pyvips.Image.new_from_memory(pixels.data, pixels.shape[1], pixels.shape[0], header.bands, "uchar")
    if (image.width, image.height) != (width, height):
        # libjpeg rounds a scaled side up, libvips down: it drops the last partial column or row
        image = image.crop(0, 0, width, height)
    image = image.copy(interpretation=header.interpretation, xres=header.xres, yres=header.yres,
                       xoffset=header.xoffset, yoffset=header.yoffset)
    for name in header.get_fields():
        if name not in _BASIC_FIELDS:
            image.set_type(header.get_typeof(name), name, header.get(name))
    return image
