"""The package's ``__all__`` is honest: sorted, complete, and every name importable."""

from __future__ import annotations

import inspect

from rheostat import rollout


def _isort_style(name: str) -> tuple[int, str]:
    """Ruff's order for ``__all__`` (RUF022): CONSTANTS, then Classes, then functions."""
    if name.isupper():
        return (0, name)
    return (1, name) if name[0].isupper() else (2, name)


def test_all_is_sorted_and_names_only_what_exists() -> None:
    # When
    names = rollout.__all__

    # Then
    assert names == sorted(names, key=_isort_style)
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
