"""What the AI engines can really do on this machine, in lines an operator reads."""

from __future__ import annotations

import importlib
import importlib.metadata
import shutil

from wanxiang.engines.asr.config import asr_engine_specs
from wanxiang.engines.translation.config import translation_engine_specs
from wanxiang.engines.translation.translators import apertium_modes


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return ""


def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def _words_lines() -> list[str]:
    version = _version("jieba")
    return [f"WordsGeneralize: jieba {version}" if version else "WordsGeneralize: jieba NOT installed"]


def _asr_lines() -> list[str]:
    lines: list[str] = []
    needs = {"pocketsphinx": "pocketsphinx", "whisper": "faster_whisper", "vosk": "vosk"}
    for model_type, spec in sorted(asr_engine_specs().items()):
        kind = spec.partition(":")[0].lower()
        module = needs.get(kind, "")
        state = "ready" if module and _importable(module) else f"NOT available ({module or 'unknown kind'})"
        lines.append(f"SpeechRecognition {model_type}: {spec} - {state}")
    if _importable("pocketsphinx"):
        import pocketsphinx

        lines.append(f"SpeechRecognition pocketsphinx {_version('pocketsphinx')} model: {pocketsphinx.get_model_path()}")
    return lines


def _libretranslate_answers(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url.rstrip("/") + "/languages", timeout=3.0).status_code == 200
    except httpx.HTTPError:
        return False


def _translation_lines() -> list[str]:
    modes = apertium_modes()
    lines = [f"Translation apertium modes: {', '.join(modes) if modes else 'none'}"]
    if shutil.which("apertium") is None:
        lines.append("Translation apertium: NOT installed (apt-get install -y apertium apertium-eng-spa)")
    for pair, spec in sorted(translation_engine_specs().items()):
        kind, _, argument = spec.partition(":")
        if kind == "apertium":
            state = "ready" if (argument or "") in modes or not argument else "mode missing"
        elif kind == "argos":
            state = "ready" if _importable("argostranslate") else "NOT available (argostranslate)"
        elif kind == "libretranslate":
            state = "answers" if _libretranslate_answers(argument) else "does NOT answer"
        else:
            state = "unknown kind"
        lines.append(f"Translation {pair}: {spec} - {state}")
    return lines


def report() -> list[str]:
    """One line per engine, pair or model type and whether it can run now."""
    return [*_words_lines(), *_asr_lines(), *_translation_lines()]
