"""Signing and verifying webhook bodies: HMAC-SHA256 over the timestamp and the body."""

from __future__ import annotations

import hashlib
import hmac

from rheostat.webhook_signatures import sign, signature_headers, verify_signature

SECRET = "s3cret-s3cret-s3cret"  # noqa: S105  # a test secret
BODY = b'{"type":"rollback.started"}'
NOW = 1_767_225_600


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, NOW, BODY) == f"sha256={expected}"
    headers = signature_headers(SECRET, BODY, timestamp=NOW)
    assert headers == {
        "X-Rheostat-Timestamp": str(NOW),
        "X-Rheostat-Signature": f"sha256={expected}",
    }


def test_a_genuine_request_verifies_within_the_tolerance() -> None:
    signature = sign(SECRET, NOW, BODY)
    assert verify_signature(SECRET, BODY, signature=signature, timestamp=str(NOW), now=NOW + 299)


def test_tampering_a_replay_or_a_malformed_header_fails() -> None:
    signature = sign(SECRET, NOW, BODY)
    check = {"signature": signature, "timestamp": NOW}
    assert not verify_signature(SECRET, BODY + b" ", now=NOW, **check)
    assert not verify_signature("another secret!!", BODY, now=NOW, **check)
    assert not verify_signature(SECRET, BODY, now=NOW + 301, **check)  # a replay, too late
    assert not verify_signature(SECRET, BODY, signature=signature, timestamp=NOW + 1, now=NOW)
    assert not verify_signature(SECRET, BODY, signature=None, timestamp=NOW, now=NOW)
    assert not verify_signature(SECRET, BODY, signature=signature, timestamp="soon", now=NOW)
