"""The targeted flag operations: on/off, kill switch, rollout percentage, allow-lists.

Each is a pure edit (``flag_edits``) run through ``change_flag``: one transaction, a new
version and an audit event, or nothing at all when the flag already is as asked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import partial
from typing import Any

from rheostat.errors import ValidationError
from rheostat.service.flag_changes import FlagWrite, change_flag
from rheostat.service.flag_edits import (
    bool_variants,
    with_enabled,
    with_rollout,
    with_targets_added,
    with_targets_removed,
)
from rheostat.store import SqlStore
from rheostat.store.records import AuditAction, FlagRecord

__all__ = [
    "add_flag_targets",
    "disable_flag",
    "enable_flag",
    "kill_flag",
    "remove_flag_targets",
    "set_rollout_percentage",
]


def enable_flag(
    store: SqlStore,
    environment: str,
    key: str,
    *,
    expected_version: int | None = None,
    actor: str,
    reason: str | None = None,
) -> FlagRecord:
    """Turn the flag on (``enabled: true``); rules and targets apply again.

    A no-op (already on) returns the flag unchanged and writes nothing.
    """
    write = FlagWrite(
        action=AuditAction.FLAG_ENABLED,
        actor=actor,
        reason=reason,
        expected_version=expected_version,
    )
    return change_flag(store, environment, key, partial(with_enabled, enabled=True), write)


def disable_flag(
    store: SqlStore,
    environment: str,
    key: str,
    *,
    expected_version: int | None = None,
    actor: str,
    reason: str | None = None,
) -> FlagRecord:
    """Turn the flag off (``enabled: false``): everyone gets the default variant.

    A no-op (already off) returns the flag unchanged and writes nothing.
    """
    write = FlagWrite(
        action=AuditAction.FLAG_DISABLED,
        actor=actor,
        reason=reason,
        expected_version=expected_version,
    )
    return change_flag(store, environment, key, partial(with_enabled, enabled=False), write)


def kill_flag(
    store: SqlStore,
    environment: str,
    key: str,
    *,
    actor: str,
    reason: str | None = None,
) -> FlagRecord:
    """Engage the kill switch: like ``disable_flag`` but never refused for a stale version.

    Audited as ``flag.killed`` even when the flag was already off (an emergency is recorded);
    a new version is written only if the flag was on.
    """
    write = FlagWrite(action=AuditAction.FLAG_KILLED, actor=actor, reason=reason, always=True)
    return change_flag(store, environment, key, partial(with_enabled, enabled=False), write)


def set_rollout_percentage(  # noqa: PLR0913  # store, subject, payload + keyword-only version, actor, reason (issue 4)
    store: SqlStore,
    environment: str,
    key: str,
    percent: float,
    *,
    expected_version: int | None = None,
    actor: str,
    reason: str | None = None,
) -> FlagRecord:
    """Serve a bool flag's "on" variant to ``percent`` % of contexts (3 decimals).

    Sets the flag's catch-all split rule (the last rule without conditions) to
    ``{on: percent, off: 100 - percent}``, adding it if missing; other rules and targets are
    kept. Widening keeps everyone who already had "on" (the salt is unchanged).

    Raises:
        ValidationError: ``percent`` outside [0, 100], or the flag is not a bool flag.
    """
    write = FlagWrite(
        action=AuditAction.FLAG_ROLLOUT_SET,
        actor=actor,
        reason=reason,
        expected_version=expected_version,
    )

    def edit(definition: Mapping[str, Any]) -> Mapping[str, Any]:
        return with_rollout(definition, percent, key)

    return change_flag(store, environment, key, edit, write)


def add_flag_targets(  # noqa: PLR0913  # store, subject, payload + keyword-only version, actor, reason (issue 4)
    store: SqlStore,
    environment: str,
    key: str,
    *,
    users: Iterable[str] = (),
    groups: Iterable[str] = (),
    variant: str | None = None,
    expected_version: int | None = None,
    actor: str,
    reason: str | None = None,
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
    write = FlagWrite(
        action=AuditAction.FLAG_TARGETS_ADDED,
        actor=actor,
        reason=reason,
        expected_version=expected_version,
    )

    def edit(definition: Mapping[str, Any]) -> Mapping[str, Any]:
        served = variant if variant is not None else bool_variants(definition, key)[0]
        return with_targets_added(definition, served, users=user_list, groups=group_list)

    return change_flag(store, environment, key, edit, write)


def remove_flag_targets(  # noqa: PLR0913  # store, subject, payload + keyword-only version, actor, reason (issue 4)
    store: SqlStore,
    environment: str,
    key: str,
    *,
    users: Iterable[str] = (),
    groups: Iterable[str] = (),
    expected_version: int | None = None,
    actor: str,
    reason: str | None = None,
) -> FlagRecord:
    """Remove these user keys and groups from every target of the flag."""
    user_list, group_list = _names(users, "users"), _names(groups, "groups")
    write = FlagWrite(
        action=AuditAction.FLAG_TARGETS_REMOVED,
        actor=actor,
        reason=reason,
        expected_version=expected_version,
    )

    def edit(definition: Mapping[str, Any]) -> Mapping[str, Any]:
        return with_targets_removed(definition, users=user_list, groups=group_list)

    return change_flag(store, environment, key, edit, write)


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
