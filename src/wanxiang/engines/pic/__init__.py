"""PicProcess: CI image processing (imageMogr2, watermarks) on libvips through pyvips.

The names below load on first use, so importing ``wanxiang.engines.pic.spec`` (as the catalog
does) does not load libvips.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wanxiang.engines.pic.decode import PixelLimits
    from wanxiang.engines.pic.engine import PicProcessEngine
    from wanxiang.engines.pic.info import image_info
    from wanxiang.engines.pic.pipeline import ProcessedImage, process_image
    from wanxiang.engines.pic.rule import RuleError, parse_rule

__all__ = [
    "PicProcessEngine",
    "PixelLimits",
    "ProcessedImage",
    "RuleError",
    "image_info",
    "parse_rule",
    "process_image",
]


def __getattr__(name: str) -> Any:
    # Only the public names: a submodule name must fall through so the import system loads it.
    if name not in __all__:
        raise AttributeError(name)
    from wanxiang.engines.pic import decode, engine, info, pipeline, rule

    for module in (decode, engine, info, pipeline, rule):
        if hasattr(module, name):
            return getattr(module, name)
    raise AttributeError(name)
