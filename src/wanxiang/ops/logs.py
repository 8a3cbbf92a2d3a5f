"""The log: one ``logging`` tree, written as text or as one JSON object a line.

Events carry their fields in ``extra={"fields": {...}}`` (see ``event``); the text form appends
them as ``key=value``, the JSON form puts them in the object. Every line passes one scrubber, so a
signature, a session token or a configured SecretKey never reaches the log, whatever logged it.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterable, Mapping
from typing import Any

FORMATS = ("text", "json")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# Values that sign or authorise a request, wherever they appear (headers, query strings, repr()s).
_SIGNED = re.compile(
    r"(?i)(q-signature|q-sign-algorithm=sha1&q-ak|q-ak|x-cos-security-token|x-ci-security-token|"
    r"authorization|secretkey|secret_key|signature)([=:]\s*|\"?\s*:\s*\"?)([^&\s\"',;]+)"
)
# Lower-case fragments of every name _SIGNED matches: a line without any skips the regex (cheap).
_SIGNED_HINTS = ("sign", "q-ak", "token", "authorization", "secret")
_known_secrets: set[str] = set()


def add_secrets(secrets: Iterable[str]) -> None:
    """Values never to be written, such as the SecretKeys this process checks signatures with."""
    _known_secrets.update(s for s in secrets if len(s) >= 8)


def scrub(line: str) -> str:
    lowered = line.lower()
    if any(hint in lowered for hint in _SIGNED_HINTS):
        line = _SIGNED.sub(lambda m: f"{m.group(1)}{m.group(2)}***", line)
    for secret in _known_secrets:
        if secret in line:
            line = line.replace(secret, "***")
    return line


def event(logger: logging.Logger, level: int, message: str, /, **fields: Any) -> None:
    """One log line with named fields (cheap when the level is off)."""
    if logger.isEnabledFor(level):
        logger.log(level, message, extra={"fields": fields})


def _iso(created: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created)) + f".{int(created % 1 * 1000):03d}Z"


_NEEDS_QUOTES = re.compile(r'[\s"=]')


def _text_value(value: Any) -> str:
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    return json.dumps(text, ensure_ascii=False) if (not text or _NEEDS_QUOTES.search(text)) else text


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields: Mapping[str, Any] = getattr(record, "fields", None) or {}
        parts = [_iso(record.created), record.levelname, f"{record.name}[{record.process}]", record.getMessage()]
        parts.extend(f"{k}={_text_value(v)}" for k, v in fields.items() if v is not None and v != "")
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return scrub(line)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "time": _iso(record.created),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        for key, value in (getattr(record, "fields", None) or {}).items():
            if value is not None and value != "":
                body[key] = value
        if record.exc_info:
            body["exception"] = self.formatException(record.exc_info)
        return scrub(json.dumps(body, ensure_ascii=False, default=str))


def configure(level: str | int = "INFO", fmt: str = "text") -> None:
    """Send every wanxiang (and library) log record to stderr in ``fmt``, at ``level``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("alembic", "pyvips", "httpx", "httpcore", "jieba", "uvicorn.error", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    logging.getLogger("uvicorn.access").disabled = True
