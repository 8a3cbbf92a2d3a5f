"""Which translator serves which language pair.

Sources, later ones winning per pair:
1. defaults: every installed Apertium mode whose languages have CI codes (``eng-spa`` -> ``en-es``);
2. the ``[translation]`` table of the TOML file named by ``WANXIANG_ENGINES_CONFIG``
   (``"en-es" = "apertium"``, ``"*" = "libretranslate:http://host:5000"``);
3. ``WANXIANG_TRANSLATION_ENGINES``: ``pair=kind[:argument]`` joined by commas, e.g.
   ``en-es=apertium,*=libretranslate:http://host:5000``.
Pairs use CI codes (``en-es``); ``*`` is the fallback for every other pair.
Kinds: ``apertium[:mode]``, ``argos``, ``libretranslate:<url>``, ``none`` (disable).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from wanxiang.engines.asr.config import file_section, parse_pairs
from wanxiang.engines.translation.languages import APERTIUM_CODES
from wanxiang.engines.translation.translators import (
    ApertiumTranslator,
    ArgosTranslator,
    LibreTranslateTranslator,
    Translator,
    apertium_modes,
    base_lang,
)
from wanxiang.model.errors import JobFailure

ENV_ENGINES = "WANXIANG_TRANSLATION_ENGINES"
UNSUPPORTED_PAIR = "UnsupportedLanguagePair"
_CI_BY_APERTIUM = {v: k for k, v in APERTIUM_CODES.items()}


def installed_apertium_pairs() -> dict[str, str]:
    """CI pair -> ``apertium:<mode>`` for each installed mode of two languages CI knows."""
    pairs: dict[str, str] = {}
    for mode in apertium_modes():
        src, _, tgt = mode.partition("-")
        if src in _CI_BY_APERTIUM and tgt in _CI_BY_APERTIUM:
            pairs[f"{_CI_BY_APERTIUM[src]}-{_CI_BY_APERTIUM[tgt]}"] = f"apertium:{mode}"
    return pairs


def translation_engine_specs(env: Mapping[str, str] | None = None) -> dict[str, str]:
    env = os.environ if env is None else env
    specs = installed_apertium_pairs()
    specs.update(file_section(env, "translation"))
    specs.update(parse_pairs(env.get(ENV_ENGINES, "")))
    return {k: v for k, v in specs.items() if v.lower() != "none"}


def spec_for(specs: Mapping[str, str], source: str, target: str) -> str:
    """The spec for a pair: exact CI codes, then base languages (zh-tw -> zh), then ``*``."""
    for key in (f"{source}-{target}", f"{base_lang(source)}-{base_lang(target)}", "*"):
        if key in specs:
            return specs[key]
    raise JobFailure(
        UNSUPPORTED_PAIR,
        f"No translation engine is configured for {source}-{target} "
        f"(configured: {', '.join(sorted(specs)) or 'none'}; see WANXIANG_TRANSLATION_ENGINES).",
    )


def build_translator(spec: str) -> Translator:
    kind, _, argument = spec.partition(":")
    kind = kind.strip().lower()
    if kind == "apertium":
        return ApertiumTranslator(argument or None)
    if kind == "argos":
        return ArgosTranslator()
    if kind == "libretranslate" and argument:
        return LibreTranslateTranslator(argument)
    raise JobFailure(UNSUPPORTED_PAIR, f"The translation engine spec {spec!r} is not understood.")
