"""Operations that move pixels, checked by where the red marker ends up."""

from __future__ import annotations

import base64

import pyvips
from pic_samples import canvas, decode, is_red, marked_png, photo_jpeg, pixel, with_marker

from wanxiang.engines.pic import process_image


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_pad_centres_the_fitted_image_on_a_coloured_canvas() -> None:
    out = process_image(marked_png(200, 100), f"imageMogr2/thumbnail/100x100/pad/1/color/{_b64('#0000FF')}")
    assert (out.width, out.height) == (100, 100)
    top_band, middle = pixel(out.data, 50, 10), pixel(out.data, 50, 50)
    assert top_band[2] > 200 and top_band[0] < 60  # blue padding above the 100x50 picture
    assert middle[0] > 200 and middle[2] > 200  # the white picture itself
    assert is_red(pixel(out.data, 3, 28))  # marker now starts at y=25


def test_cut_takes_the_rectangle_at_the_offset() -> None:
    out = process_image(marked_png(200, 100), "imageMogr2/cut/50x40x5x5")
    assert (out.width, out.height) == (50, 40)
    assert is_red(pixel(out.data, 0, 0)) and is_red(pixel(out.data, 14, 14))
    assert not is_red(pixel(out.data, 16, 16))


def test_crop_with_gravity_keeps_the_chosen_corner() -> None:
    image = with_marker(canvas(200, 100), 180, 80, 20)  # bottom-right marker
    source = bytes(image.pngsave_buffer())
    corner = process_image(source, "imageMogr2/crop/50x50/gravity/southeast")
    assert (corner.width, corner.height) == (50, 50) and is_red(pixel(corner.data, 45, 45))
    default = process_image(source, "imageMogr2/crop/50x50")  # top-left by default
    assert not is_red(pixel(default.data, 45, 45))
    offset = process_image(source, "imageMogr2/crop/50x50/gravity/southeast/dx/10/dy/10")
    # the window moves 10 px inwards: the marker (x 180..200) now shows at 40..50, not from 30
    assert is_red(pixel(corner.data, 32, 32)) and not is_red(pixel(offset.data, 32, 32))
    assert is_red(pixel(offset.data, 45, 45))


def test_crop_of_width_only_keeps_full_height() -> None:
    out = process_image(marked_png(200, 100), "imageMogr2/crop/60x/gravity/north")
    assert (out.width, out.height) == (60, 100)


def test_iradius_leaves_a_transparent_outside_and_an_opaque_centre() -> None:
    out = process_image(marked_png(200, 100), "imageMogr2/iradius/40/format/png")
    assert (out.width, out.height) == (80, 80)
    assert pixel(out.data, 1, 1)[3] == 0
    assert pixel(out.data, 40, 40)[3] == 255


def test_rradius_rounds_only_the_corners() -> None:
    out = process_image(marked_png(200, 100), "imageMogr2/rradius/30/format/png")
    assert (out.width, out.height) == (200, 100)
    assert pixel(out.data, 0, 0)[3] == 0 and pixel(out.data, 199, 99)[3] == 0
    assert pixel(out.data, 100, 0)[3] == 255 and pixel(out.data, 100, 50)[3] == 255


def test_rounded_corners_turn_white_in_a_jpeg() -> None:
    out = process_image(
        bytes(canvas(100, 100, (0, 0, 0)).pngsave_buffer()), "imageMogr2/rradius/40/format/jpg"
    )
    assert min(pixel(out.data, 1, 1)) > 200 and max(pixel(out.data, 50, 50)) < 30


def test_rotate_by_any_angle_enlarges_the_canvas() -> None:
    out = process_image(marked_png(200, 100), "imageMogr2/rotate/45/format/png")
    assert out.width > 200 and out.height > 200
    assert pixel(out.data, 0, 0)[3] == 0  # corners uncovered by the turn are transparent


def test_rotate_180_moves_the_marker_to_the_bottom_right() -> None:
    out = process_image(marked_png(200, 100), "imageMogr2/rotate/180")
    assert is_red(pixel(out.data, 195, 95)) and not is_red(pixel(out.data, 5, 5))


def test_flip_mirrors_the_marker() -> None:
    horizontal = process_image(marked_png(200, 100), "imageMogr2/flip/horizontal")
    assert is_red(pixel(horizontal.data, 195, 5))
    vertical = process_image(marked_png(200, 100), "imageMogr2/flip/vertical")
    assert is_red(pixel(vertical.data, 5, 95))


def test_auto_orient_turns_an_exif_rotated_photo_upright() -> None:
    image = with_marker(canvas(200, 100), 0, 0, 20).copy()
    image.set_type(pyvips.GValue.gint_type, "orientation", 6)  # "rotate 90 clockwise to view"
    source = bytes(image.jpegsave_buffer(Q=95))
    out = process_image(source, "imageMogr2/auto-orient")
    assert (out.width, out.height) == (100, 200)
    assert is_red(pixel(out.data, 95, 5))
    untouched = process_image(source, "imageMogr2/quality/90")
    assert (untouched.width, untouched.height) == (200, 100)


def test_smart_crop_gives_exactly_the_asked_size() -> None:
    out = process_image(marked_png(200, 100), "imageMogr2/scrop/50x80")
    assert (out.width, out.height) == (50, 80)


def test_a_later_thumbnail_resizes_what_the_earlier_steps_made() -> None:
    out = process_image(marked_png(200, 100), "imageMogr2/rotate/90/thumbnail/50x")
    assert (out.width, out.height) == (50, 100)
    assert (decode(out.data).width, decode(out.data).height) == (50, 100)


def test_thumbnail_then_rotate_works_on_a_photo_larger_than_the_read_cache() -> None:
    # shrink-on-load streams the source top to bottom; a rotate after it must still see every line
    out = process_image(photo_jpeg(1600, 1200), "imageMogr2/thumbnail/1200x/rotate/90/flip/vertical")
    assert (out.width, out.height) == (900, 1200)
