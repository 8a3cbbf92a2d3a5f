"""Style expansion: ``style/<name>`` parts become the style's body, everything else stays as sent."""

from __future__ import annotations

import pytest

from wanxiang.model.errors import CIError
from wanxiang.services.styles import check_style_body, check_style_name, expand_styles

STYLES = {"thumb": "imageMogr2/thumbnail/50x", "gray.v2": "imageMogr2/grayscale/1|imageMogr2/format/png"}


def lookup(name: str) -> str | None:
    return STYLES.get(name)


def test_a_style_alone_becomes_its_body() -> None:
    assert expand_styles("style/thumb", lookup) == "imageMogr2/thumbnail/50x"


def test_a_style_in_a_chain_keeps_the_other_parts_in_order() -> None:
    rule = "imageMogr2/rotate/90|style/gray.v2|imageMogr2/quality/80"
    assert expand_styles(rule, lookup) == (
        "imageMogr2/rotate/90|imageMogr2/grayscale/1|imageMogr2/format/png|imageMogr2/quality/80"
    )


def test_a_rule_without_styles_is_returned_unchanged_without_lookups() -> None:
    def no_lookup(name: str) -> str | None:
        raise AssertionError(f"looked up {name}")

    assert expand_styles("imageMogr2/thumbnail/!50p|watermark/2/text/c3R5bGU", no_lookup) == (
        "imageMogr2/thumbnail/!50p|watermark/2/text/c3R5bGU"
    )


def test_an_unknown_style_is_invalid_argument_naming_it() -> None:
    with pytest.raises(CIError) as caught:
        expand_styles("imageMogr2/rotate/90|style/nope", lookup)
    assert caught.value.status == 400 and caught.value.code == "InvalidArgument"
    assert "'nope'" in caught.value.message


def test_a_style_part_without_exactly_one_name_is_refused() -> None:
    with pytest.raises(CIError) as caught:
        expand_styles("style/a/b", lookup)
    assert caught.value.code == "InvalidArgument" and "style/<name>" in caught.value.message


@pytest.mark.parametrize("name", ["", "a b", "x" * 65, "中文", "a/b", "a!b"])
def test_bad_style_names_are_refused_naming_the_field(name: str) -> None:
    with pytest.raises(CIError) as caught:
        check_style_name(name)
    assert caught.value.code == "InvalidArgument" and "StyleName" in caught.value.message


@pytest.mark.parametrize("name", ["a", "thumb-1_v2.jpg", "x" * 64])
def test_good_style_names_pass(name: str) -> None:
    assert check_style_name(name) == name


@pytest.mark.parametrize("body", ["", "imageMogr2/spin/3", "style/other", "imageMogr2/rotate/90|style/other"])
def test_bad_style_bodies_are_refused_naming_the_field(body: str) -> None:
    with pytest.raises(CIError) as caught:
        check_style_body(body)
    assert caught.value.code == "InvalidArgument" and "StyleBody" in caught.value.message
