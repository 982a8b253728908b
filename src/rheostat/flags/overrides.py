"""Operator overrides for emergencies, read from environment variables by the caller.

Precedence, highest first: environment override > kill switch > targeting and rules.

* ``RHEOSTAT_KILL_<FLAG>=1`` kills the flag: like ``enabled: false``, everyone gets its default
  variant, and flags that need it as a prerequisite see it off.
* ``RHEOSTAT_FLAG_<FLAG>=<variant>`` forces that variant for everyone (native flags only).

``<FLAG>`` is the flag key upper-cased with every character other than A-Z and 0-9 replaced by
``_`` (``new-checkout`` -> ``RHEOSTAT_KILL_NEW_CHECKOUT``). Both answer with reason ``OVERRIDE``.
This module is pure: it is handed the environment as a mapping.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rheostat.errors import ConfigurationError
from rheostat.flags.compiled import CompiledFlag
from rheostat.flags.model import Context, Evaluation, Reason, Variant

__all__ = [
    "KilledFlag",
    "Override",
    "environment_name",
    "forced_variants",
    "overrides_from_environment",
    "unmatched_variables",
]

KILL_PREFIX = "RHEOSTAT_KILL_"
FLAG_PREFIX = "RHEOSTAT_FLAG_"
_TRUTHY = frozenset({"1", "true", "yes", "on"})


def environment_name(flag_key: str) -> str:
    """Return the ``<FLAG>`` part of the variable names for ``flag_key``."""
    return re.sub(r"[^A-Z0-9]", "_", flag_key.upper())


@dataclass(frozen=True, slots=True, kw_only=True)
class Override:
    """A forced answer for one flag: ``variant`` None means killed."""

    flag: str
    variable: str
    variant: str | None = None


def overrides_from_environment(
    environment: Mapping[str, str], flag_keys: Iterable[str]
) -> list[Override]:
    """Return the overrides that ``environment`` sets for ``flag_keys``; a kill wins.

    Raises:
        ConfigurationError: a set variable matches two flags (``a-b`` and ``a_b``).
    """
    found: list[Override] = []
    claimed: dict[str, str] = {}
    for key in flag_keys:
        name = environment_name(key)
        override = _override(environment, key, name)
        if override is None:
            continue
        if name in claimed:
            raise ConfigurationError(
                f"{override.variable} matches two flags, {claimed[name]!r} and {key!r};"
                " rename one of them to override it"
            )
        claimed[name] = key
        found.append(override)
    return found


def _override(environment: Mapping[str, str], key: str, name: str) -> Override | None:
    kill = environment.get(KILL_PREFIX + name, "").strip().lower()
    forced = environment.get(FLAG_PREFIX + name, "").strip()
    if kill in _TRUTHY:
        return Override(flag=key, variable=KILL_PREFIX + name)
    if forced:
        return Override(flag=key, variable=FLAG_PREFIX + name, variant=forced)
    return None


def unmatched_variables(environment: Mapping[str, str], flag_keys: Iterable[str]) -> list[str]:
    """Return ``RHEOSTAT_KILL_*`` / ``RHEOSTAT_FLAG_*`` variables that match no flag (typos)."""
    names = {environment_name(key) for key in flag_keys}
    return sorted(
        variable
        for variable in environment
        for prefix in (KILL_PREFIX, FLAG_PREFIX)
        if variable.startswith(prefix) and variable[len(prefix) :] not in names
    )


def forced_variants(
    overrides: Iterable[Override], definitions: Mapping[str, Mapping[str, Any]]
) -> dict[str, str | None]:
    """Check forced variants against native definitions; return flag -> variant (None: kill).

    Raises:
        ConfigurationError: a variable names a variant the flag does not have.
    """
    result: dict[str, str | None] = {}
    for override in overrides:
        variants = definitions[override.flag].get("variants") or {"on": True, "off": False}
        if override.variant is not None and override.variant not in variants:
            known = ", ".join(sorted(variants))
            raise ConfigurationError(
                f"{override.variable}={override.variant}: flag {override.flag!r} has no such"
                f" variant (variants: {known})"
            )
        result[override.flag] = override.variant
    return result


class KilledFlag:
    """A killed flag of a format without variants to force (Unleash imports)."""

    __slots__ = ("_key", "_variant", "_version")

    def __init__(self, flag: CompiledFlag) -> None:
        self._key, self._version = flag.key, flag.version
        self._variant = Variant(name="disabled", enabled=False, feature_enabled=False)

    @property
    def key(self) -> str:
        return self._key

    @property
    def version(self) -> int | None:
        return self._version

    def evaluate(self, context: Context, default: Any) -> Evaluation:
        value = False if default is None or isinstance(default, bool) else default
        return Evaluation(value, "disabled", Reason.OVERRIDE, None, self._version)

    def is_enabled(self, context: Context) -> bool:
        return False

    def variant(self, context: Context) -> Variant:
        return self._variant
