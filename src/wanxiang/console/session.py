"""Console sessions: a signed, expiring cookie and the CSRF token derived from it.

The cookie is signed with a key derived from the SecretKey of the SecretId that signed in, so a
session dies when its key leaves the keys file, every ``serve`` sharing the keys file accepts it,
and holding one key lets nobody forge a session for another. Whether a session may act is read
from the keys file on every request, never from the cookie.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

COOKIE = "wanxiang_console"
LIFETIME_SECONDS = 8 * 3600
_PURPOSE = b"wanxiang-console-session-v1"


@dataclass(frozen=True)
class Session:
    secret_id: str
    expires: int
    nonce: str
    read_only: bool
    csrf: str


@dataclass(frozen=True)
class SessionKeys:
    credentials: Mapping[str, str]  # SecretId -> SecretKey
    read_only_ids: frozenset[str] = frozenset()

    def sign_in(self, secret_id: str, secret_key: str, now: float) -> str | None:
        """The cookie value for a correct pair, else None (compared in constant time)."""
        known = self.credentials.get(secret_id)
        # Compare against something even for an unknown id, so timing does not tell ids apart.
        if not hmac.compare_digest((known or "\0" * 40).encode(), secret_key.encode()) or known is None:
            return None
        payload = {"sid": secret_id, "exp": int(now) + LIFETIME_SECONDS, "n": secrets.token_urlsafe(16)}
        body = _b64(json.dumps(payload, separators=(",", ":")).encode())
        return f"{body}.{self._sign(known, body)}"

    def read(self, cookie: str | None, now: float) -> Session | None:
        if not cookie or cookie.count(".") != 1:
            return None
        body, signature = cookie.split(".")
        try:
            payload = json.loads(_unb64(body))
            secret_id, expires, nonce = str(payload["sid"]), int(payload["exp"]), str(payload["n"])
        except (ValueError, KeyError, TypeError):
            return None
        key = self.credentials.get(secret_id)
        if key is None or not hmac.compare_digest(self._sign(key, body), signature) or expires <= now:
            return None
        csrf = hmac.new(_derive(key), b"csrf:" + nonce.encode(), hashlib.sha256).hexdigest()
        return Session(secret_id, expires, nonce, secret_id in self.read_only_ids, csrf)

    @staticmethod
    def _sign(secret_key: str, body: str) -> str:
        return _b64(hmac.new(_derive(secret_key), body.encode(), hashlib.sha256).digest())


def csrf_ok(session: Session, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(session.csrf.encode(), (token or "").encode())


def _derive(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode(), _PURPOSE, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
