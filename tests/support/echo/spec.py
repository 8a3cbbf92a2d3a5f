"""Echo as a Tag: runs on the AI queues, needs an Output, has templates."""

from __future__ import annotations

from tests.support.echo.params import validate_echo
from wanxiang.engines.base import Engine
from wanxiang.engines.spec import TagSpec
from wanxiang.model.job import QueueFamily
from wanxiang.model.template import TemplateShape


def _engine() -> Engine:
    from tests.support.echo.engine import EchoEngine

    return EchoEngine()


SPEC = TagSpec(
    tag="Echo",
    family=QueueFamily.AI,
    engine=_engine,
    check_params=validate_echo,
    template=TemplateShape(nested="Echo"),
)
