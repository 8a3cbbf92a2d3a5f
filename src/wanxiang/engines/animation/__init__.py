"""Animation (video -> GIF / WebP) on FFmpeg through PyAV."""

from wanxiang.engines.animation.engine import AnimationEngine, output_key
from wanxiang.engines.animation.params import AnimationParams, parse_animation, validate_animation

__all__ = ["AnimationEngine", "AnimationParams", "output_key", "parse_animation", "validate_animation"]
