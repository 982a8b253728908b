"""``redact_secrets``: passwords and API tokens never survive into messages and logs."""

from __future__ import annotations

import pytest

from rheostat.redaction import redact_secrets


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "could not connect to postgresql+psycopg://app:s3cr%40t@db:5432/rheostat",
            "could not connect to postgresql+psycopg://app:***@db:5432/rheostat",
        ),
        ("redis://:hunter2@cache:6379/0 refused", "redis://:***@cache:6379/0 refused"),
        ("key rh_sdk_AbC-12_x9 revoked", "key rh_sdk_*** revoked"),
        ("Bearer rh_admin_ZZZZZZZZ", "Bearer rh_admin_***"),
        ("host=db user=app password=s3cret dbname=x", "host=db user=app password=*** dbname=x"),
        ("password='two words' port=5432", "password=*** port=5432"),
    ],
)
def test_secrets_are_replaced(text: str, expected: str) -> None:
    assert redact_secrets(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "sqlite:///./rheostat.db",
        "postgresql://postgres@127.0.0.1:5432/postgres",
        "https://example.com/a:b/c",
        'connection to server at "127.0.0.1", port 1 failed: Connection refused',
    ],
)
def test_text_without_secrets_is_unchanged(text: str) -> None:
    assert redact_secrets(text) == text
