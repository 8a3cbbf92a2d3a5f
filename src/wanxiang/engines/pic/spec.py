"""PicProcess as a Tag: image processing jobs on the picture queues."""

from __future__ import annotations

from wanxiang.engines.base import Engine
from wanxiang.engines.pic.plan import plan_params
from wanxiang.engines.spec import TagSpec
from wanxiang.model.job import QueueFamily, Tag
from wanxiang.model.template import TemplateShape


def _engine() -> Engine:
    from wanxiang.engines.pic.engine import PicProcessEngine

    return PicProcessEngine()


SPEC = TagSpec(
    tag=Tag.PIC_PROCESS,
    family=QueueFamily.PIC,
    engine=_engine,
    template=TemplateShape(nested="PicProcess", required_text=("ProcessRule",)),
    list_path="pic_jobs",
    expands_styles=True,
    plan=plan_params,
)
