"""The targeted flag operations: on/off, kill switch, rollout percentage, allow-lists.

Each is a pure edit (``rheostat.flags.edits``) run through ``change_flag`` in the caller's
transaction: a new version and an audit event, or nothing at all when the flag already is as
asked. Each changes one thing and keeps the rest as stored, so ``change.expected_version`` is
optional: without it the edit applies to the flag as it is committed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import partial
from typing import Any

from rheostat.errors import ValidationError
from rheostat.flags.edits import (
    bool_variants,
    with_enabled,
    with_rollout,
    with_targets_added,
    with_targets_removed,
)
from rheostat.service.change import Change
from rheostat.service.flag_changes import FlagWrite, change_flag
from rheostat.store.records import AuditAction, FlagRecord
from rheostat.store.unit_of_work import UnitOfWork

__all__ = [
    "add_flag_targets",
    "disable_flag",
    "enable_flag",
    "kill_flag",
    "remove_flag_targets",
    "set_rollout_percentage",
]


def enable_flag(uow: UnitOfWork, environment: str, key: str, *, change: Change) -> FlagRecord:
    """Turn the flag on (``enabled: true``); rules and targets apply again.

    A no-op (already on) returns the flag unchanged and writes nothing.
    """
    write = FlagWrite(action=AuditAction.FLAG_ENABLED, change=change)
    return change_flag(uow, environment, key, partial(with_enabled, enabled=True), write)


def disable_flag(uow: UnitOfWork, environment: str, key: str, *, change: Change) -> FlagRecord:
    """Turn the flag off (``enabled: false``): everyone gets the default variant.

    A no-op (already off) returns the flag unchanged and writes nothing.
    """
    write = FlagWrite(action=AuditAction.FLAG_DISABLED, change=change)
    return change_flag(uow, environment, key, partial(with_enabled, enabled=False), write)


def kill_flag(uow: UnitOfWork, environment: str, key: str, *, change: Change) -> FlagRecord:
    """Engage the kill switch: like ``disable_flag`` but never refused for a stale version.

    Audited as ``flag.killed`` even when the flag was already off (an emergency is recorded);
    a new version is written only if the flag was on. ``change.expected_version`` is ignored.
    """
    unconditional = Change(actor=change.actor, reason=change.reason)
    write = FlagWrite(action=AuditAction.FLAG_KILLED, change=unconditional, always=True)
    return change_flag(uow, environment, key, partial(with_enabled, enabled=False), write)


def set_rollout_percentage(
    uow: UnitOfWork, environment: str, key: str, percent: float, *, change: Change
) -> FlagRecord:
    """Serve a bool flag's "on" variant to ``percent`` % of contexts (3 decimals).

    Sets the flag's catch-all split rule (the last rule without conditions) to
    ``{on: percent, off: 100 - percent}``, adding it if missing; other rules and targets are
    kept. Widening keeps everyone who already had "on" (the salt is unchanged).

    Raises:
        ValidationError: ``percent`` is not a number in [0, 100], or the flag is not a bool flag.
    """
    write = FlagWrite(action=AuditAction.FLAG_ROLLOUT_SET, change=change)

    def edit(definition: Mapping[str, Any]) -> Mapping[str, Any]:
        return with_rollout(definition, percent, key)

    return change_flag(uow, environment, key, edit, write)


def add_flag_targets(  # noqa: PLR0913  # uow, subject, then keyword-only users, groups, variant, change
    uow: UnitOfWork,
    environment: str,
    key: str,
    *,
    users: Iterable[str] = (),
    groups: Iterable[str] = (),
    variant: str | None = None,
    change: Change,
) -> FlagRecord:
    """Serve ``variant`` to these user keys and group members (an allow-list).

    ``variant`` defaults to the bool flag's "on" variant (the one whose value is ``true``).
    Keys already listed are not repeated; adding nothing new writes nothing.

    Raises:
        ValidationError: no users and no groups, a name that is not text, or no ``variant``
            for a non-bool flag.
        InvalidDefinition: ``variant`` is not one of the flag's variants.
    """
    user_list, group_list = _names(users, "users"), _names(groups, "groups")
    if not user_list and not group_list:
        raise ValidationError("name at least one user or group to add", details={"flag": key})
    write = FlagWrite(action=AuditAction.FLAG_TARGETS_ADDED, change=change)

    def edit(definition: Mapping[str, Any]) -> Mapping[str, Any]:
        served = variant if variant is not None else bool_variants(definition, key)[0]
        return with_targets_added(definition, served, users=user_list, groups=group_list)

    return change_flag(uow, environment, key, edit, write)


def remove_flag_targets(  # uow, subject, then keyword-only users, groups, change
    uow: UnitOfWork,
    environment: str,
    key: str,
    *,
    users: Iterable[str] = (),
    groups: Iterable[str] = (),
    change: Change,
) -> FlagRecord:
    """Remove these user keys and groups from every target of the flag."""
    user_list, group_list = _names(users, "users"), _names(groups, "groups")
    write = FlagWrite(action=AuditAction.FLAG_TARGETS_REMOVED, change=change)

    def edit(definition: Mapping[str, Any]) -> Mapping[str, Any]:
        return with_targets_removed(definition, users=user_list, groups=group_list)

    return change_flag(uow, environment, key, edit, write)


def _names(values: Iterable[str], field: str) -> list[str]:
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ValidationError(
            f"{field} must be a list of names, got {values!r}", details={"field": field}
        )
    names = list(values)
    for name in names:
        if not isinstance(name, str) or not name:
            raise ValidationError(
                f"{field} must hold non-empty strings, got {name!r}", details={"field": field}
            )
    return names
