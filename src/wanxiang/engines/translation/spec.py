"""Translation as a Tag: documents translated on the AI queues."""

from __future__ import annotations

from wanxiang.engines.base import Engine
from wanxiang.engines.spec import TagSpec, unless_no_need_output
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
    needs_output=unless_no_need_output,
)
