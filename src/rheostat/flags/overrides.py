"""Operator overrides for emergencies, read from environment variables by the caller.

Precedence, highest first: environment override > kill switch > targeting and rules.

* ``RHEOSTAT_KILL_<FLAG>=1`` forces the flag off: its default variant, ``enabled`` false.
* ``RHEOSTAT_FLAG_<FLAG>=<variant>`` forces that variant for everyone.

``<FLAG>`` is the flag key upper-cased with every character other than A-Z and 0-9 replaced by
``_`` (``new-checkout`` -> ``RHEOSTAT_KILL_NEW_CHECKOUT``). Both answer with reason ``OVERRIDE``.
This module is pure: it is handed the environment as a mapping.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rheostat.errors import ConfigurationError
from rheostat.flags.compiled import CompiledFlag
from rheostat.flags.model import Context, ErrorCode, Evaluation, Reason, Variant

__all__ = ["OverriddenFlag", "Override", "environment_name", "overrides_from_environment"]

KILL_PREFIX = "RHEOSTAT_KILL_"
FLAG_PREFIX = "RHEOSTAT_FLAG_"
_TRUTHY = frozenset({"1", "true", "yes", "on"})


def environment_name(flag_key: str) -> str:
    """Return the ``<FLAG>`` part of the variable names for ``flag_key``."""
    return re.sub(r"[^A-Z0-9]", "_", flag_key.upper())


@dataclass(frozen=True, slots=True, kw_only=True)
class Override:
    """A forced answer for one flag: ``variant`` None means killed (default variant, off)."""

    flag: str
    variable: str
    variant: str | None = None


def overrides_from_environment(
    environment: Mapping[str, str], flag_keys: list[str]
) -> list[Override]:
    """Return the overrides that ``environment`` sets for ``flag_keys``; a kill wins."""
    found: list[Override] = []
    for key in flag_keys:
        name = environment_name(key)
        kill = environment.get(KILL_PREFIX + name, "").strip().lower()
        forced = environment.get(FLAG_PREFIX + name, "").strip()
        if kill in _TRUTHY:
            found.append(Override(flag=key, variable=KILL_PREFIX + name))
        elif forced:
            found.append(Override(flag=key, variable=FLAG_PREFIX + name, variant=forced))
    return found


class OverriddenFlag:
    """A flag whose answer an operator forced (satisfies ``CompiledFlag``)."""

    __slots__ = ("_accepts", "_evaluation", "_key", "_variant", "_version")

    def __init__(self, flag: CompiledFlag, override: Override, definition: Mapping[str, Any]):
        """Build the forced answer from the flag's native ``definition``.

        Raises:
            ConfigurationError: the variable names a variant the flag does not have.
        """
        variants: Mapping[str, Any] = definition.get("variants", {})
        name = override.variant or str(definition.get("default"))
        if name not in variants:
            known = ", ".join(sorted(variants))
            raise ConfigurationError(
                f"{override.variable}={override.variant}: flag {flag.key!r} has no such variant"
                f" (variants: {known})"
            )
        value = variants[name]
        enabled = override.variant is not None and (value if isinstance(value, bool) else True)
        self._key, self._version = flag.key, flag.version
        self._accepts = type(value)
        self._evaluation = Evaluation(value, name, Reason.OVERRIDE, None, flag.version)
        self._variant = Variant(name=name, enabled=enabled, payload=value)

    @property
    def key(self) -> str:
        return self._key

    @property
    def version(self) -> int | None:
        return self._version

    def evaluate(self, context: Context, default: Any) -> Evaluation:
        if default is not None and not _same_kind(default, self._evaluation.value):
            return Evaluation(default, None, Reason.ERROR, ErrorCode.TYPE_MISMATCH, self._version)
        return self._evaluation

    def is_enabled(self, context: Context) -> bool:
        return self._variant.enabled

    def variant(self, context: Context) -> Variant:
        return self._variant


def _same_kind(default: Any, value: Any) -> bool:
    if isinstance(value, bool) or isinstance(default, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(value, int | float):
        return isinstance(default, int | float)
    if isinstance(value, dict | list):
        return isinstance(default, dict | list)
    return isinstance(default, type(value))
