"""Reading keys, versions and entity tags from request headers (no server needed)."""

from __future__ import annotations

import pytest

from rheostat.api.auth import read_token
from rheostat.api.deps import require_expected_version, resolve_expected_version, version_etag
from rheostat.api.routers.client import is_etag_matched
from rheostat.errors import Unauthenticated, ValidationError


@pytest.mark.parametrize(
    ("authorization", "x_api_key", "token"),
    [
        ("Bearer rh_admin_abc", None, "rh_admin_abc"),
        ("bearer   rh_sdk_abc  ", None, "rh_sdk_abc"),
        (None, "rh_sdk_abc", "rh_sdk_abc"),
        ("Bearer rh_admin_abc", "rh_sdk_other", "rh_admin_abc"),
    ],
)
def test_the_token_is_read_from_bearer_or_x_api_key(
    authorization: str | None, x_api_key: str | None, token: str
) -> None:
    # Given headers / When the token is read / Then Bearer wins over X-API-Key
    assert read_token(authorization, x_api_key) == token


@pytest.mark.parametrize(
    ("authorization", "x_api_key", "message"),
    [
        (None, None, "missing API key"),
        ("", "  ", "missing API key"),
        ("Basic dXNlcjpwYXNz", None, "must be 'Bearer <key>'"),
        ("Bearer", None, "must be 'Bearer <key>'"),
    ],
)
def test_a_missing_or_malformed_key_is_unauthenticated(
    authorization: str | None, x_api_key: str | None, message: str
) -> None:
    # Given bad headers / When the token is read / Then the error says what to send
    with pytest.raises(Unauthenticated, match=message):
        read_token(authorization, x_api_key)


@pytest.mark.parametrize(
    ("body", "if_match", "expected"),
    [
        (None, None, None),
        (3, None, 3),
        (None, '"3"', 3),
        (None, 'W/"3"', 3),
        (None, "3", 3),
        (3, '"3"', 3),
    ],
)
def test_the_expected_version_comes_from_the_body_or_if_match(
    body: int | None, if_match: str | None, expected: int | None
) -> None:
    # Given / When / Then
    assert resolve_expected_version(body, if_match) == expected


@pytest.mark.parametrize(
    ("body", "if_match"),
    [(None, '"abc"'), (None, '"0"'), (2, '"3"'), (None, "*")],
)
def test_a_bad_or_contradicting_if_match_is_refused(body: int | None, if_match: str) -> None:
    # Given / When / Then the error names the header
    with pytest.raises(ValidationError) as raised:
        resolve_expected_version(body, if_match)
    assert raised.value.details == {"path": "header.If-Match"}


def test_a_replacement_must_name_the_version_it_read() -> None:
    # Given / When neither the body nor If-Match names a version / Then it is refused
    with pytest.raises(ValidationError) as raised:
        require_expected_version(None, None)
    assert raised.value.details == {"path": "body.expected_version"}


def test_the_etag_of_a_version_round_trips_through_if_match() -> None:
    # Given / When a version's ETag is sent back / Then it names the version
    assert resolve_expected_version(None, version_etag(7)) == 7


@pytest.mark.parametrize(
    ("if_none_match", "matched"),
    [
        ('"abc"', True),
        ('W/"abc"', True),
        ('"zzz", "abc"', True),
        ("*", True),
        ('"zzz"', False),
        ("", False),
    ],
)
def test_if_none_match_compares_entity_tags_weakly(if_none_match: str, matched: bool) -> None:
    # Given the current ETag "abc" / When a client sends If-None-Match / Then
    assert is_etag_matched(if_none_match, '"abc"') is matched
