"""Animation as a Tag: video to GIF / WebP on the media queues."""

from __future__ import annotations

from wanxiang.engines.animation.params import validate_animation
from wanxiang.engines.base import Engine
from wanxiang.engines.spec import TagSpec
from wanxiang.model.job import QueueFamily, Tag
from wanxiang.model.template import TemplateShape


def _engine() -> Engine:
    from wanxiang.engines.animation.engine import AnimationEngine

    return AnimationEngine()


SPEC = TagSpec(
    tag=Tag.ANIMATION,
    family=QueueFamily.MEDIA,
    engine=_engine,
    check_params=validate_animation,
    # The params are top-level fields of a template request; responses name them TransTpl (docs)
    # and Animation (GoSDK).
    template=TemplateShape(fields=("Container", "Video", "TimeInterval"), response_names=("TransTpl", "Animation")),
    engine_fills_ext=True,
)
