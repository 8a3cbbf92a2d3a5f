"""Engines by Tag, as thumbor keys its engines by name: the worker asks for ``get(tag)``."""

from __future__ import annotations

import importlib

from wanxiang.engines.base import Engine, EngineFactory

# Tag -> "module:factory"; imported lazily so a worker only loads the libraries it uses.
_BUILTIN: dict[str, str] = {
    "PicProcess": "wanxiang.engines.pic.engine:PicProcessEngine",
    "Animation": "wanxiang.engines.animation.engine:AnimationEngine",
    "WordsGeneralize": "wanxiang.engines.words.engine:WordsGeneralizeEngine",
    "SpeechRecognition": "wanxiang.engines.asr.engine:SpeechRecognitionEngine",
    "Translation": "wanxiang.engines.translation.engine:TranslationEngine",
}
_factories: dict[str, EngineFactory] = {}
_instances: dict[str, Engine] = {}


def register(tag: str, factory: EngineFactory) -> None:
    _factories[tag] = factory
    _instances.pop(tag, None)


def known_tags() -> set[str]:
    return set(_BUILTIN) | set(_factories)


def get(tag: str) -> Engine | None:
    if tag in _instances:
        return _instances[tag]
    factory = _factories.get(tag)
    if factory is None and tag in _BUILTIN:
        module_name, _, attr = _BUILTIN[tag].partition(":")
        try:
            factory = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError):
            return None
    if factory is None:
        return None
    engine = factory()
    _instances[tag] = engine
    return engine
