"""ImageInspect as a Tag: a media job (CI submits it through ``/jobs``) whose result is in the job."""

from __future__ import annotations

from wanxiang.engines.base import Engine
from wanxiang.engines.image_inspect.engine import ImageInspectEngine, validate_image_inspect
from wanxiang.engines.spec import OutputRule, TagSpec
from wanxiang.model.job import QueueFamily, Tag


def _engine() -> Engine:
    return ImageInspectEngine()


SPEC = TagSpec(
    tag=Tag.IMAGE_INSPECT,
    family=QueueFamily.MEDIA,
    engine=_engine,
    check_params=validate_image_inspect,
    output=OutputRule.NONE,
    params_optional=True,
)
