"""The package's ``__all__`` is honest: sorted, complete, and every name importable."""

from __future__ import annotations

import inspect

from rheostat import stats


def test_all_is_sorted_and_names_only_what_exists() -> None:
    # When
    names = stats.__all__

    # Then
    assert names == sorted(names)
    assert all(hasattr(stats, name) for name in names)


def test_every_public_name_defined_in_the_package_is_exported() -> None:
    # Given
    public = {
        name
        for name, value in vars(stats).items()
        if not name.startswith("_")
        and (inspect.isfunction(value) or inspect.isclass(value))
        and value.__module__.startswith("rheostat.stats")
    }

    # When / Then
    assert public == set(stats.__all__)
