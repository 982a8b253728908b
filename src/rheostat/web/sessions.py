"""Dashboard sessions: signed, stateless cookies and the CSRF tokens of their forms.

A session cookie is ``<payload>.<signature>``: the payload (URL-safe base64 of JSON) names the
admin key, when the session ends and a random nonce; the signature is an HMAC-SHA256 of the
payload under the server's secret. Nothing is stored: any replica with the same secret reads
it, and each request still checks that the key exists, is active and is an admin key, so
revoking the key ends its sessions at once.

A form's CSRF token is an HMAC of the session's nonce (or, for the login form, of the nonce in
the short-lived login cookie), so a page of another site can neither read nor forge it. Pure:
the secret, the time and the nonce come in as values.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = [
    "LOGIN_COOKIE",
    "SESSION_COOKIE",
    "SESSION_LIFETIME",
    "Session",
    "csrf_token",
    "is_valid_csrf",
    "issue_session",
    "read_session",
]

SESSION_COOKIE = "rheostat_session"
LOGIN_COOKIE = "rheostat_login"
SESSION_LIFETIME = timedelta(hours=12)
_MAX_COOKIE = 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    """A signed-in admin key: which one, until when, and the nonce its CSRF tokens derive from."""

    key_id: str
    expires_at: int
    """Seconds since the epoch."""
    nonce: str


def issue_session(secret: bytes, key_id: str, *, now: datetime, nonce: str) -> str:
    """Return the cookie value of a new session of ``key_id`` lasting ``SESSION_LIFETIME``."""
    expires = int((now + SESSION_LIFETIME).timestamp())
    body = json.dumps({"k": key_id, "e": expires, "n": nonce}, separators=(",", ":"))
    payload = base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
    return f"{payload}.{_sign(secret, 'session', payload)}"


def read_session(secret: bytes, cookie: str | None, *, now: datetime) -> Session | None:
    """Return the session a cookie holds, or ``None`` if it is missing, forged or expired."""
    if not cookie or len(cookie) > _MAX_COOKIE or cookie.count(".") != 1:
        return None
    payload, signature = cookie.split(".")
    if not hmac.compare_digest(signature, _sign(secret, "session", payload)):
        return None
    try:
        fields = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        session = Session(key_id=str(fields["k"]), expires_at=int(fields["e"]), nonce=fields["n"])
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(session.nonce, str) or session.expires_at <= now.timestamp():
        return None
    return session


def csrf_token(secret: bytes, nonce: str) -> str:
    """Return the CSRF token of the forms of the session (or login page) with ``nonce``."""
    return _sign(secret, "csrf", nonce)


def is_valid_csrf(secret: bytes, nonce: str | None, token: str | None) -> bool:
    """Whether ``token`` is the CSRF token of ``nonce`` (constant-time)."""
    if not nonce or not token:
        return False
    return hmac.compare_digest(token, csrf_token(secret, nonce))


def _sign(secret: bytes, purpose: str, value: str) -> str:
    digest = hmac.new(secret, f"{purpose}:{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
