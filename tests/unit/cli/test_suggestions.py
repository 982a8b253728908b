"""The closest key to a mistyped one."""

from __future__ import annotations

from rheostat.cli.suggestions import closest_key


def test_the_closest_key_is_suggested() -> None:
    # Given / When / Then a one-letter typo finds its key among others
    assert closest_key("new-chekout", ["dark-mode", "new-checkout", "old-checkout"]) == (
        "new-checkout"
    )


def test_nothing_is_suggested_when_nothing_is_close() -> None:
    # Given / When / Then
    assert closest_key("zzz", ["dark-mode", "new-checkout"]) is None
    assert closest_key("anything", []) is None
