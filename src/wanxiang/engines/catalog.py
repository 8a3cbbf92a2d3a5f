"""Every job Tag this server runs: one line per Tag, its spec declared in its own package.

The worker asks :func:`engine` for a Tag's engine (built once, on first use); services ask
:func:`spec` for the rest. :func:`register` adds a Tag at run time (tests add a toy one).
"""

from __future__ import annotations

from wanxiang.engines.animation.spec import SPEC as ANIMATION
from wanxiang.engines.asr.spec import SPEC as SPEECH_RECOGNITION
from wanxiang.engines.base import Engine
from wanxiang.engines.image_inspect.spec import SPEC as IMAGE_INSPECT
from wanxiang.engines.pic.spec import SPEC as PIC_PROCESS
from wanxiang.engines.spec import TagSpec
from wanxiang.engines.translation.spec import SPEC as TRANSLATION
from wanxiang.engines.words.spec import SPEC as WORDS_GENERALIZE
from wanxiang.model.job import QueueFamily

BUILTIN: tuple[TagSpec, ...] = (
    PIC_PROCESS, ANIMATION, TRANSLATION, SPEECH_RECOGNITION, WORDS_GENERALIZE, IMAGE_INSPECT
)

_specs: dict[str, TagSpec] = {s.tag: s for s in BUILTIN}
_engines: dict[str, Engine] = {}


def register(tag_spec: TagSpec) -> None:
    """Add (or replace) a Tag; its engine is built afresh on next use."""
    _specs[tag_spec.tag] = tag_spec
    _engines.pop(tag_spec.tag, None)


def unregister(tag: str) -> None:
    """Drop a Tag added by :func:`register` (built-in Tags come back as declared)."""
    _engines.pop(tag, None)
    _specs.pop(tag, None)
    for builtin in BUILTIN:
        if builtin.tag == tag:
            _specs[tag] = builtin


def spec(tag: str) -> TagSpec | None:
    return _specs.get(tag)


def tags() -> list[str]:
    return sorted(_specs)


def family_of(tag: str) -> QueueFamily | None:
    found = _specs.get(tag)
    return found.family if found is not None else None


def engine_fills_ext(tag: str) -> bool:
    found = _specs.get(tag)
    return found is not None and found.engine_fills_ext


def template_tags() -> list[str]:
    return sorted(t for t, s in _specs.items() if s.template is not None)


def default_tag(list_path: str) -> str | None:
    """The Tag a family list path (``pic_jobs``) lists when the request names none."""
    return next((t for t, s in _specs.items() if s.list_path == list_path), None)


def engine(tag: str) -> Engine | None:
    """The Tag's engine, built once per process; None for an unknown Tag."""
    if tag in _engines:
        return _engines[tag]
    found = _specs.get(tag)
    if found is None:
        return None
    try:
        built = found.engine()
    except ImportError:
        # The Tag's library is not installed here: its jobs fail with UnsupportedTag.
        return None
    _engines[tag] = built
    return built
