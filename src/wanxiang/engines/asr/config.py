"""Which recogniser serves which EngineModelType.

Sources, later ones winning per type:
1. defaults: ``16k_en`` and ``8k_en`` -> pocketsphinx (its English model is in the wheel);
2. the ``[asr]`` table of the TOML file named by ``WANXIANG_ENGINES_CONFIG``
   (``16k_zh = "whisper:/models/small"``);
3. ``WANXIANG_ASR_ENGINES``: ``type=kind[:argument]`` pairs joined by commas, e.g.
   ``16k_zh=whisper:/models/small,16k_ja=vosk:/models/ja``.
Kinds: ``pocketsphinx[:model_dir]``, ``whisper:<model>``, ``vosk:<model_dir>``, ``none`` (disable).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

DEFAULT_ENGINES: dict[str, str] = {"16k_en": "pocketsphinx", "8k_en": "pocketsphinx"}
ENV_ENGINES = "WANXIANG_ASR_ENGINES"
ENV_CONFIG_FILE = "WANXIANG_ENGINES_CONFIG"


def parse_pairs(value: str) -> dict[str, str]:
    """``a=x:1,b=y`` -> {"a": "x:1", "b": "y"}; blanks ignored."""
    pairs: dict[str, str] = {}
    for item in value.split(","):
        key, sep, spec = item.partition("=")
        if sep and key.strip() and spec.strip():
            pairs[key.strip()] = spec.strip()
    return pairs


def file_section(env: Mapping[str, str], section: str) -> dict[str, str]:
    """The ``[section]`` table of the engines config file, as strings (empty when no file)."""
    name = env.get(ENV_CONFIG_FILE, "")
    if not name:
        return {}
    with Path(name).open("rb") as handle:
        table = tomllib.load(handle).get(section, {})
    return {str(k): str(v) for k, v in table.items() if not isinstance(v, dict)}


def asr_engine_specs(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """EngineModelType -> engine spec, from the defaults, the config file and the environment."""
    env = os.environ if env is None else env
    specs = dict(DEFAULT_ENGINES)
    specs.update(file_section(env, "asr"))
    specs.update(parse_pairs(env.get(ENV_ENGINES, "")))
    return {k: v for k, v in specs.items() if v.lower() != "none"}
