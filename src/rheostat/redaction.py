"""``redact_secrets``: hide passwords in URLs and API key tokens in text bound for a log,
an error message or a health report. Pure (no I/O)."""

from __future__ import annotations

import re

__all__ = ["REDACTED", "redact_secrets"]

REDACTED = "***"

_URL_PASSWORD = re.compile(
    r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^:/?#@\s]*):(?P<secret>[^@/\s]+)@"
)
_API_TOKEN = re.compile(r"\b(?P<head>rh_(?:admin|sdk)_)[A-Za-z0-9_-]+")
_PASSWORD_FIELD = re.compile(
    r"(?P<head>\bpassword\s*=\s*)(?P<secret>'[^']*'|\"[^\"]*\"|\S+)", re.IGNORECASE
)


def redact_secrets(text: str) -> str:
    """Return ``text`` with URL passwords (``postgresql://u:***@h``), rheostat API tokens
    (``rh_sdk_***``) and ``password=...`` values (libpq connection strings) replaced."""
    text = _URL_PASSWORD.sub(lambda found: f"{found['head']}:{REDACTED}@", text)
    text = _API_TOKEN.sub(lambda found: f"{found['head']}{REDACTED}", text)
    return _PASSWORD_FIELD.sub(lambda found: f"{found['head']}{REDACTED}", text)
