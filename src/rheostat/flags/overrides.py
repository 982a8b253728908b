"""Operator overrides for emergencies, read from environment variables by the caller.

Precedence, highest first: environment override > kill switch > targeting and rules.

* ``RHEOSTAT_KILL_<FLAG>=1`` kills the flag: like ``enabled: false``, everyone gets its default
  variant, and flags that need it as a prerequisite see it off.
* ``RHEOSTAT_FLAG_<FLAG>=<variant>`` forces that variant for everyone (native flags only).
* ``RHEOSTAT_ROLLOUT_<FLAG>=<percent>`` serves a bool flag's on variant to that percent of
  contexts and its off variant to the rest (native flags only). It buckets exactly as the
  server's rollout does (the flag's salt and hash version, the key, on first in the split), so
  at the same percent the same users are on, and raising the percent keeps everyone who was on.
  A context without a key gets off.

For one flag, the first of KILL, FLAG, ROLLOUT that is set wins; the others are ignored and not
checked, so a kill applies even beside a malformed rollout. ``<FLAG>`` is the flag key
upper-cased with every character other than A-Z and 0-9 replaced by ``_`` (``new-checkout`` ->
``RHEOSTAT_KILL_NEW_CHECKOUT``). All answer with reason ``OVERRIDE``. This module is pure: it is
handed the environment as a mapping.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rheostat.errors import ConfigurationError
from rheostat.flags.compiled import CompiledFlag
from rheostat.flags.model import Context, Evaluation, FlagType, Reason, Variant
from rheostat.flags.summary import first_variant_serving

__all__ = [
    "KilledFlag",
    "Override",
    "Rollout",
    "environment_name",
    "forced_variants",
    "on_off_variants",
    "overrides_from_environment",
    "unmatched_variables",
]

KILL_PREFIX = "RHEOSTAT_KILL_"
FLAG_PREFIX = "RHEOSTAT_FLAG_"
ROLLOUT_PREFIX = "RHEOSTAT_ROLLOUT_"
_PREFIXES = (KILL_PREFIX, FLAG_PREFIX, ROLLOUT_PREFIX)
_TRUTHY = frozenset({"1", "true", "yes", "on"})
_BOOL_VARIANTS: Mapping[str, Any] = {"on": True, "off": False}


def environment_name(flag_key: str) -> str:
    """Return the ``<FLAG>`` part of the variable names for ``flag_key``."""
    return re.sub(r"[^A-Z0-9]", "_", flag_key.upper())


@dataclass(frozen=True, slots=True, kw_only=True)
class Override:
    """A forced answer for one flag: a ``variant``, a ``rollout_percent``, or neither (killed)."""

    flag: str
    variable: str
    variant: str | None = None
    rollout_percent: float | None = None

    @property
    def is_kill(self) -> bool:
        """Whether this override kills the flag."""
        return self.variant is None and self.rollout_percent is None


@dataclass(frozen=True, slots=True, kw_only=True)
class Rollout:
    """A checked ``RHEOSTAT_ROLLOUT_<FLAG>``: ``on`` for ``percent`` of keys, else ``off``."""

    percent: float
    on: str
    off: str


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
    # KILL > FLAG > ROLLOUT: return on the first one set, before reading (or checking) the rest.
    if environment.get(KILL_PREFIX + name, "").strip().lower() in _TRUTHY:
        return Override(flag=key, variable=KILL_PREFIX + name)
    forced = environment.get(FLAG_PREFIX + name, "").strip()
    if forced:
        return Override(flag=key, variable=FLAG_PREFIX + name, variant=forced)
    rollout = environment.get(ROLLOUT_PREFIX + name, "").strip()
    if rollout:
        variable = ROLLOUT_PREFIX + name
        return Override(flag=key, variable=variable, rollout_percent=_percent(variable, rollout))
    return None


def _percent(variable: str, text: str) -> float:
    """Parse a rollout percentage: a finite number from 0 to 100."""
    try:
        percent = float(text)
    except ValueError:
        percent = math.nan
    if not 0 <= percent <= 100:  # also refuses nan
        raise ConfigurationError(
            f"{variable}={text}: not a rollout percentage; use a number from 0 to 100 (e.g. 25)"
        )
    return percent


def unmatched_variables(environment: Mapping[str, str], flag_keys: Iterable[str]) -> list[str]:
    """Return the override variables (kill, flag, rollout) that match no flag: typos."""
    names = {environment_name(key) for key in flag_keys}
    return sorted(
        variable
        for variable in environment
        for prefix in _PREFIXES
        if variable.startswith(prefix) and variable[len(prefix) :] not in names
    )


def forced_variants(
    overrides: Iterable[Override], definitions: Mapping[str, Mapping[str, Any]]
) -> dict[str, str | Rollout | None]:
    """Check overrides against native definitions; return flag -> variant, rollout or None (kill).

    Raises:
        ConfigurationError: a variable names a variant the flag does not have, or rolls out a
            flag that is not an on/off flag.
    """
    return {override.flag: _checked(override, definitions[override.flag]) for override in overrides}


def _checked(override: Override, definition: Mapping[str, Any]) -> str | Rollout | None:
    variants = definition.get("variants") or _BOOL_VARIANTS
    percent = override.rollout_percent
    if percent is not None:
        return _rollout(override, percent, definition.get("type", FlagType.BOOL), variants)
    if override.variant is not None and override.variant not in variants:
        known = ", ".join(sorted(variants))
        raise ConfigurationError(
            f"{override.variable}={override.variant}: flag {override.flag!r} has no such"
            f" variant (variants: {known})"
        )
    return override.variant


def _rollout(
    override: Override, percent: float, flag_type: str, variants: Mapping[str, Any]
) -> Rollout:
    on_off = on_off_variants(flag_type, variants)
    if on_off is None:
        raise ConfigurationError(
            f"{override.variable}: flag {override.flag!r} is not an on/off flag (a bool flag with"
            f" a true and a false variant); use {FLAG_PREFIX}{environment_name(override.flag)}"
            "=<variant> instead"
        )
    return Rollout(percent=percent, on=on_off[0], off=on_off[1])


def on_off_variants(flag_type: str, variants: Mapping[str, Any]) -> tuple[str, str] | None:
    """Return a bool flag's on (``true``) and off (``false``) variant names; None for others.

    ``on`` and ``off`` are preferred when several variants share a value, as the server's
    rollout does.
    """
    if flag_type != FlagType.BOOL:
        return None
    on = first_variant_serving(variants, True, preferred="on")
    off = first_variant_serving(variants, False, preferred="off")
    return None if on is None or off is None else (on, off)


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
