"""Animation (video -> GIF / WebP) on FFmpeg through PyAV.

The engine loads on first use, so importing ``wanxiang.engines.animation.spec`` (as the catalog
does) does not load PyAV.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wanxiang.engines.animation.params import AnimationParams, parse_animation, validate_animation

if TYPE_CHECKING:
    from wanxiang.engines.animation.engine import AnimationEngine, output_key

__all__ = ["AnimationEngine", "AnimationParams", "output_key", "parse_animation", "validate_animation"]


def __getattr__(name: str) -> Any:
    if name in ("AnimationEngine", "output_key"):
        from wanxiang.engines.animation import engine

        return getattr(engine, name)
    raise AttributeError(name)
