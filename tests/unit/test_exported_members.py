"""``__all__`` is honest: every public name exists and nothing public is left out."""

from __future__ import annotations

import rheostat


def test_every_name_in_all_is_defined() -> None:
    missing = [name for name in rheostat.__all__ if not hasattr(rheostat, name)]
    assert missing == []


def test_all_lists_every_public_name() -> None:
    public = {
        name
        for name, value in vars(rheostat).items()
        if not name.startswith("_") and not getattr(value, "__name__", "").startswith("rheostat.")
    }
    assert public <= set(rheostat.__all__)


def test_all_is_sorted() -> None:
    assert list(rheostat.__all__) == sorted(rheostat.__all__)
