"""PicProcess: CI image processing (imageMogr2, watermarks) on libvips through pyvips."""

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
