"""Prerequisite checks at load: every referenced flag exists, its variants too, and no cycles."""

from __future__ import annotations

from collections.abc import Mapping

from rheostat.errors import InvalidDefinition
from rheostat.flags.model import Flag

__all__ = ["check_prerequisites", "prerequisite_order"]


def check_prerequisites(flags: Mapping[str, Flag]) -> None:
    """Raise ``InvalidDefinition`` for an unknown flag or variant, or a cycle."""
    for key, flag in flags.items():
        for index, prerequisite in enumerate(flag.prerequisites):
            path = f"flags.{key}.prerequisites[{index}]"
            parent = flags.get(prerequisite.flag)
            if parent is None:
                raise InvalidDefinition(f"{path}.flag", f"unknown flag {prerequisite.flag!r}")
            for name in prerequisite.variants:
                if name not in parent.variants:
                    raise InvalidDefinition(
                        f"{path}.variants", f"flag {parent.key!r} has no variant {name!r}"
                    )
    prerequisite_order(flags)


def prerequisite_order(flags: Mapping[str, Flag]) -> list[str]:
    """Return flag keys so that every flag comes after its prerequisites.

    Raises:
        InvalidDefinition: naming the cycle, e.g. ``a -> b -> a``.
    """
    order: list[str] = []
    state: dict[str, str] = {}  # "visiting" or "done"

    def visit(key: str, trail: list[str]) -> None:
        if state.get(key) == "done":
            return
        if state.get(key) == "visiting":
            cycle = " -> ".join([*trail[trail.index(key) :], key])
            raise InvalidDefinition(f"flags.{key}.prerequisites", f"prerequisite cycle: {cycle}")
        state[key] = "visiting"
        for prerequisite in flags[key].prerequisites:
            visit(prerequisite.flag, [*trail, key])
        state[key] = "done"
        order.append(key)

    for key in flags:
        visit(key, [])
    return order
