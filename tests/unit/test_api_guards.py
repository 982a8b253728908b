"""The pure parts of the API's guards: the token bucket, key ids and the security headers."""

from __future__ import annotations

import pytest

from rheostat.api.rate_limit import Bucket, key_id, take
from rheostat.api.security_headers import API_CSP, DOCS_CSP, security_headers


def test_a_bucket_serves_its_burst_then_refills_at_the_rate() -> None:
    # Given a full bucket of 3 refilled at 2 per second
    bucket = Bucket(tokens=3.0, updated=0.0)

    # When four requests come at once, then one after half a second
    waits = [take(bucket, 0.0, rate=2.0, burst=3) for _ in range(4)]
    later = take(bucket, 0.5, rate=2.0, burst=3)

    # Then three pass, the fourth must wait half a second, and half a second later one passes
    assert waits == [0.0, 0.0, 0.0, 0.5]
    assert later == 0.0


def test_a_bucket_never_holds_more_than_its_burst() -> None:
    bucket = Bucket(tokens=0.0, updated=0.0)
    take(bucket, 3600.0, rate=10.0, burst=2)  # an hour idle refills to 2, not 36 000
    assert [take(bucket, 3600.0, rate=10.0, burst=2) for _ in range(2)] == [0.0, pytest.approx(0.1)]


def test_a_refused_request_takes_nothing() -> None:
    bucket = Bucket(tokens=0.0, updated=0.0)
    assert take(bucket, 0.0, rate=1.0, burst=1) == 1.0
    assert take(bucket, 0.25, rate=1.0, burst=1) == pytest.approx(0.75)
    assert take(bucket, 1.0, rate=1.0, burst=1) == 0.0


def _scope(*headers: tuple[bytes, bytes]) -> dict[str, object]:
    return {"type": "http", "headers": list(headers)}


def test_a_key_is_known_by_a_hash_that_does_not_hold_the_token() -> None:
    token = "rh_sdk_abcdefghijklmnop"  # noqa: S105  # a test value
    by_bearer = key_id(_scope((b"authorization", f"Bearer {token}".encode())))
    by_header = key_id(_scope((b"x-api-key", token.encode())))
    assert by_bearer == by_header
    assert by_bearer is not None
    assert token not in by_bearer
    assert "abcdefgh" not in by_bearer
    assert key_id(_scope((b"x-api-key", b"rh_sdk_other"))) != by_bearer


@pytest.mark.parametrize(
    "headers",
    [(), ((b"authorization", b"Basic dXNlcjpwdw=="),), ((b"authorization", b"Bearer "),)],
)
def test_a_request_without_a_key_has_no_key_id(headers: tuple[tuple[bytes, bytes], ...]) -> None:
    assert key_id(_scope(*headers)) is None


def test_json_gets_the_strict_policy_and_api_paths_no_store() -> None:
    headers = dict(security_headers("/api/v1/flags", "application/json", html_csp="x"))
    assert headers[b"content-security-policy"] == API_CSP.encode()
    assert headers[b"cache-control"] == b"no-store"
    assert headers[b"x-content-type-options"] == b"nosniff"
    assert headers[b"x-frame-options"] == b"DENY"
    assert headers[b"referrer-policy"] == b"no-referrer"


def test_html_gets_the_configured_policy_and_the_docs_theirs() -> None:
    page = dict(security_headers("/", "text/html; charset=utf-8", html_csp="default-src 'self'"))
    docs = dict(
        security_headers("/docs", "text/html", html_csp="default-src 'self'", docs_paths={"/docs"})
    )
    assert page[b"content-security-policy"] == b"default-src 'self'"
    assert b"cache-control" not in page
    assert docs[b"content-security-policy"] == DOCS_CSP.encode()
