from __future__ import annotations

import pytest

from wanxiang.engines.pic.operations import (
    Crop,
    Format,
    ImageWatermark,
    Quality,
    Rotate,
    Style,
    TextWatermark,
    Thumbnail,
)
from wanxiang.engines.pic.rule import RuleError, parse_rule


def test_a_chained_rule_becomes_operations_in_order() -> None:
    ops = parse_rule("imageMogr2/thumbnail/!50p/rotate/90/format/png|imageMogr2/quality/80")
    assert ops == [
        Thumbnail("percent", width=50, height=50),
        Rotate(90),
        Format("png"),
        Quality(80),
    ]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("!50p", Thumbnail("percent", width=50, height=50)),
        ("!25px", Thumbnail("percent_width", width=25)),
        ("!x25p", Thumbnail("percent_height", height=25)),
        ("300x", Thumbnail("width", width=300)),
        ("x200", Thumbnail("height", height=200)),
        ("300x200", Thumbnail("fit", width=300, height=200)),
        ("!300x200r", Thumbnail("fill", width=300, height=200)),
        ("300x200!", Thumbnail("force", width=300, height=200)),
        ("300x200>", Thumbnail("shrink", width=300, height=200)),
        ("300x200<", Thumbnail("enlarge", width=300, height=200)),
        ("10000@", Thumbnail("area", area=10000)),
    ],
)
def test_every_thumbnail_form_is_understood(spec: str, expected: Thumbnail) -> None:
    assert parse_rule(f"imageMogr2/thumbnail/{spec}") == [expected]


def test_quality_with_bang_forces_the_value() -> None:
    assert parse_rule("imageMogr2/quality/95!") == [Quality(95, "absolute", force=True)]


def test_crop_takes_its_gravity_and_offsets_wherever_they_are_written() -> None:
    assert parse_rule("imageMogr2/gravity/south/crop/300x/dy/5") == [Crop(300, None, "south", 0, 5)]


def test_pad_and_colour_attach_to_the_thumbnail() -> None:
    (thumb,) = parse_rule("imageMogr2/thumbnail/100x100/pad/1/color/IzAwMDBGRg")
    assert isinstance(thumb, Thumbnail) and thumb.pad and thumb.pad_color == "#0000FF"


def test_watermarks_decode_their_base64_with_or_without_padding() -> None:
    # "http://examplebucket-1250000000.cos.ap-chongqing.myqcloud.com/logo/mark.png" URL-safe, no padding
    image = (
        "aHR0cDovL2V4YW1wbGVidWNrZXQtMTI1MDAwMDAwMC5jb3MuYXAtY2hvbmdxaW5nLm15cWNsb3VkLmNvbS9sb2dvL21hcmsucG5n"
    )
    (mark,) = parse_rule(f"watermark/1/image/{image}/gravity/northwest/dx/10")
    assert mark == ImageWatermark("logo/mark.png", gravity="northwest", dx=10)
    (text,) = parse_rule("watermark/2/text/5L2g5aW9/fill/IzAwMDAwMA==/fontsize/30")
    assert isinstance(text, TextWatermark)
    assert (text.text, text.fill, text.fontsize) == ("你好", "#000000", 30)


def test_a_style_is_recognised_as_such() -> None:
    assert parse_rule("style/thumb-small") == [Style("thumb-small")]


@pytest.mark.parametrize(
    ("rule", "named"),
    [
        ("imageMogr2/rotat/90", "'rotat'"),
        ("imageMogr2/rotate/abc", "'abc'"),
        ("imageMogr2/rotate/400", "'400'"),
        ("imageMogr2/thumbnail/50q", "'50q'"),
        ("imageMogr2/format/tga", "'tga'"),
        ("imageMogr2/quality/101", "'101'"),
        ("imageMogr2/rotate", "'rotate'"),
        ("imageMogr2/thumbnail/100x|imageMagick/x", "'imageMagick'"),
        ("watermark/2/text/%%%", "'%%%'"),
        ("watermark/1/image/aGVsbG8/colour/x", "'colour'"),
        ("imageMogr2/gravity/center", "'gravity'"),
    ],
)
def test_a_bad_rule_is_refused_with_a_message_naming_the_bad_part(rule: str, named: str) -> None:
    with pytest.raises(RuleError) as caught:
        parse_rule(rule)
    assert named in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_unknown_operation_message_says_which_verb() -> None:
    with pytest.raises(RuleError, match=r"^imageMogr2: unknown operation 'rotat'$"):
        parse_rule("imageMogr2/rotat/90")
