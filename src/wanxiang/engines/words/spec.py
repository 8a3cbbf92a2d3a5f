"""WordsGeneralize as a Tag: segmentation and entities, the result kept in the job itself."""

from __future__ import annotations

from wanxiang.engines.base import Engine
from wanxiang.engines.spec import OutputRule, TagSpec
from wanxiang.engines.words.params import validate_words_generalize
from wanxiang.model.job import QueueFamily, Tag


def _engine() -> Engine:
    from wanxiang.engines.words.engine import WordsGeneralizeEngine

    return WordsGeneralizeEngine()


SPEC = TagSpec(
    tag=Tag.WORDS_GENERALIZE,
    family=QueueFamily.AI,
    engine=_engine,
    check_operation=validate_words_generalize,
    output=OutputRule.NONE,
    params_optional=True,
)
