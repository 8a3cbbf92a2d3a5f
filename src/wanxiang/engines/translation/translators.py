"""Translator adapters: Apertium (subprocess), Argos Translate (lazy import), LibreTranslate (HTTP)."""

from __future__ import annotations

import html
import importlib
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Protocol

import httpx

from wanxiang.engines.translation.languages import APERTIUM_CODES
from wanxiang.model.errors import JobFailure

ENGINE_UNAVAILABLE = "EngineUnavailable"
ENGINE_ERROR = "TranslationEngineError"
APERTIUM_MODES_DIR = Path("/usr/share/apertium/modes")


class Translator(Protocol):
    """Translates a batch of plain-text segments; the result has one string per input, in order."""

    def translate(self, texts: list[str], source: str, target: str) -> list[str]: ...


def base_lang(code: str) -> str:
    """``zh-tw`` -> ``zh``: engines know languages, not CI's regional variants."""
    return code.split("-", 1)[0]


def apertium_modes() -> list[str]:
    """Installed Apertium modes (``eng-spa``...), read from the modes folder Debian packages fill."""
    if shutil.which("apertium") is None or not APERTIUM_MODES_DIR.is_dir():
        return []
    return sorted(p.stem for p in APERTIUM_MODES_DIR.glob("*.mode"))


def apertium_mode(source: str, target: str) -> str | None:
    src, tgt = APERTIUM_CODES.get(base_lang(source)), APERTIUM_CODES.get(base_lang(target))
    mode = f"{src}-{tgt}"
    return mode if src and tgt and mode in apertium_modes() else None


_SEGMENT = re.compile(r'<div id="wx(\d+)">(.*?)</div>', re.DOTALL)


class ApertiumTranslator:
    """Apertium's rule-based MT, one ``apertium`` process per batch.

    Segments travel as HTML: each is wrapped in its own ``<div>``, which Apertium's HTML format
    keeps verbatim and treats as a block break, so segments never bleed into each other and the
    text inside needs only HTML escaping.
    """

    TIMEOUT_SECONDS = 600

    def __init__(self, mode: str | None = None) -> None:
        self.mode = mode

    def _run(self, mode: str, payload: str) -> str:
        try:
            done = subprocess.run(
                ["apertium", "-u", "-f", "html", mode],
                input=payload.encode(),
                capture_output=True,
                timeout=self.TIMEOUT_SECONDS,
                check=False,
            )
        except FileNotFoundError as exc:
            raise JobFailure(ENGINE_UNAVAILABLE, "The apertium command is not installed.") from exc
        except subprocess.TimeoutExpired as exc:
            raise JobFailure(ENGINE_ERROR, f"Apertium {mode} took longer than {self.TIMEOUT_SECONDS} s.") from exc
        if done.returncode != 0:
            raise JobFailure(ENGINE_ERROR, f"Apertium {mode} failed: {done.stderr.decode(errors='replace')[:300]}")
        return done.stdout.decode(errors="replace")

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        if not texts:
            return []
        mode = self.mode or apertium_mode(source, target)
        if mode is None:
            raise JobFailure(ENGINE_UNAVAILABLE, f"No Apertium mode is installed for {source}-{target}.")
        payload = "".join(f'<div id="wx{i}">{html.escape(t, quote=False)}</div>\n' for i, t in enumerate(texts))
        found = {int(m[1]): html.unescape(m[2]) for m in _SEGMENT.finditer(self._run(mode, payload))}
        if len(found) != len(texts):
            raise JobFailure(ENGINE_ERROR, f"Apertium {mode} returned {len(found)} of {len(texts)} segments.")
        return [found[i].strip() for i in range(len(texts))]


class ArgosTranslator:
    """Argos Translate with its installed language packages (``argostranslate`` imported on use)."""

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        try:
            argos: Any = importlib.import_module("argostranslate.translate")
        except ImportError as exc:
            raise JobFailure(
                ENGINE_UNAVAILABLE, "The translation engine needs the Python package 'argostranslate'."
            ) from exc
        src, tgt = base_lang(source), base_lang(target)
        return [str(argos.translate(t, src, tgt)) for t in texts]


class LibreTranslateTranslator:
    """A LibreTranslate-compatible server: ``POST /translate`` with ``q`` as a list."""

    BATCH = 100  # strings per request: servers cap the request size

    def __init__(self, url: str, api_key: str = "", timeout: float = 120.0) -> None:
        self.url = url.rstrip("/") + "/translate"
        self.api_key = api_key
        self.timeout = timeout

    def _post(self, client: httpx.Client, batch: list[str], source: str, target: str) -> list[str]:
        body: dict[str, Any] = {"q": batch, "source": base_lang(source), "target": base_lang(target), "format": "text"}
        if self.api_key:
            body["api_key"] = self.api_key
        try:
            response = client.post(self.url, json=body)
            response.raise_for_status()
            translated = response.json()["translatedText"]
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            raise JobFailure(ENGINE_ERROR, f"LibreTranslate at {self.url} failed: {exc}") from exc
        if not isinstance(translated, list) or len(translated) != len(batch):
            raise JobFailure(ENGINE_ERROR, f"LibreTranslate at {self.url} returned a wrong number of strings.")
        return [str(t) for t in translated]

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        out: list[str] = []
        with httpx.Client(timeout=self.timeout) as client:
            for start in range(0, len(texts), self.BATCH):
                out.extend(self._post(client, texts[start : start + self.BATCH], source, target))
        return out
