"""The package's ``__all__`` is honest: sorted, complete, and every name importable."""

from __future__ import annotations

import inspect

from rheostat import rollout


def test_all_is_sorted_and_names_only_what_exists() -> None:
    # When
    names = rollout.__all__

    # Then
    assert names == sorted(names)
    assert all(hasattr(rollout, name) for name in names)


def test_every_public_function_and_class_of_the_package_is_exported() -> None:
    # Given
    public = {
        name
        for name, value in vars(rollout).items()
        if not name.startswith("_")
        and (inspect.isfunction(value) or inspect.isclass(value))
        and value.__module__.startswith("rheostat.rollout")
    }

    # When / Then
    assert public <= set(rollout.__all__)
