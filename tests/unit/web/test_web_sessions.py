"""Signed session cookies and CSRF tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rheostat.web.sessions import (
    SESSION_LIFETIME,
    csrf_token,
    is_valid_csrf,
    issue_session,
    read_session,
)

SECRET = b"k" * 32
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def test_a_session_reads_back_until_it_expires() -> None:
    # Given
    cookie = issue_session(SECRET, "key-1", now=NOW, nonce="n1")
    # When
    fresh = read_session(SECRET, cookie, now=NOW + timedelta(hours=1))
    expired = read_session(SECRET, cookie, now=NOW + SESSION_LIFETIME)
    # Then
    assert fresh is not None
    assert (fresh.key_id, fresh.nonce) == ("key-1", "n1")
    assert expired is None


def test_a_cookie_signed_with_another_secret_or_edited_is_refused() -> None:
    # Given
    cookie = issue_session(SECRET, "key-1", now=NOW, nonce="n1")
    payload, signature = cookie.split(".")
    forged_payload = issue_session(SECRET, "key-2", now=NOW, nonce="n1").split(".")[0]
    # Then
    assert read_session(b"other" * 8, cookie, now=NOW) is None
    assert read_session(SECRET, f"{forged_payload}.{signature}", now=NOW) is None
    assert read_session(SECRET, payload, now=NOW) is None
    assert read_session(SECRET, None, now=NOW) is None
    assert read_session(SECRET, "x" * 5000, now=NOW) is None


def test_a_validly_signed_but_malformed_payload_is_refused() -> None:
    # Given: a signature over something that is not a session
    import base64
    import hashlib
    import hmac

    payload = base64.urlsafe_b64encode(b'{"k": 1}').decode().rstrip("=")
    digest = hmac.new(SECRET, f"session:{payload}".encode(), hashlib.sha256).digest()
    signature = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    # Then
    assert read_session(SECRET, f"{payload}.{signature}", now=NOW) is None


def test_csrf_tokens_belong_to_one_nonce_and_one_secret() -> None:
    # Given
    token = csrf_token(SECRET, "n1")
    # Then
    assert is_valid_csrf(SECRET, "n1", token)
    assert not is_valid_csrf(SECRET, "n2", token)
    assert not is_valid_csrf(b"other" * 8, "n1", token)
    assert not is_valid_csrf(SECRET, None, token)
    assert not is_valid_csrf(SECRET, "n1", None)
