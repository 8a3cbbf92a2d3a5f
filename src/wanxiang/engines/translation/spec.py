"""Translation as a Tag: documents translated on the AI queues."""

from __future__ import annotations

from wanxiang.engines.base import Engine
from wanxiang.engines.spec import OutputRule, TagSpec
from wanxiang.engines.translation.languages import validate_translation
from wanxiang.model.job import QueueFamily, Tag


def _engine() -> Engine:
    from wanxiang.engines.translation.engine import TranslationEngine

    return TranslationEngine()


SPEC = TagSpec(
    tag=Tag.TRANSLATION,
    family=QueueFamily.AI,
    engine=_engine,
    check_operation=validate_translation,
    output=OutputRule.UNLESS_NO_NEED_OUTPUT,
)
