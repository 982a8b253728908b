"""Flags: every change validates, writes a new immutable version and an audit event.

Definitions are native flag definitions (ARCHITECTURE.md, "Native flag document"), validated by
building the environment's ``FlagSet`` (all its flags and segments, with this one changed); a
bad one raises ``InvalidDefinition`` naming the path (``flags.<key>.rules[0].serve``). The
stored definition is the canonical one (``FlagSet.to_dict``), without a ``version`` field.

Concurrency: ``update_flag`` and ``restore_flag`` replace the whole definition, so they must
name the version the caller read (``expected_version``); a stale one raises ``Conflict`` and
nothing changes. The targeted operations (enable, disable, kill, set rollout percentage,
add/remove targets) and ``delete_flag`` accept an ``expected_version`` too; when it is ``None``
they apply to the newest version inside the transaction, which loses nothing because they
change one thing and keep the rest as stored.
Writes to one environment are serialised (its row is locked), so a change is always validated
against the environment as it is committed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rheostat.errors import AlreadyExists, Conflict, NotFound
from rheostat.service.flag_changes import (
    FlagWrite,
    change_flag,
    flag_not_found,
    live_flag,
    validate_flag,
    write_flag,
)
from rheostat.service.flag_edits import dependent_flags
from rheostat.service.flag_switches import (
    add_flag_targets,
    disable_flag,
    enable_flag,
    kill_flag,
    remove_flag_targets,
    set_rollout_percentage,
)
from rheostat.service.guards import (
    MAX_VERSION,
    check_actor,
    check_key,
    check_lookup,
    check_number,
    check_version,
    required_version,
)
from rheostat.store import SqlStore
from rheostat.store.records import AuditAction, FlagRecord, FlagVersion

__all__ = [
    "add_flag_targets",
    "create_flag",
    "delete_flag",
    "disable_flag",
    "enable_flag",
    "find_flag",
    "flag_history",
    "get_flag",
    "get_flag_version",
    "kill_flag",
    "list_flags",
    "remove_flag_targets",
    "restore_flag",
    "set_rollout_percentage",
    "update_flag",
]


def create_flag(
    store: SqlStore,
    environment: str,
    key: str,
    definition: Mapping[str, Any],
    *,
    actor: str,
    reason: str | None = None,
) -> FlagRecord:
    """Create flag ``key`` in ``environment`` at version 1.

    A flag that was deleted may be created again: its history continues.

    Raises:
        NotFound: no such environment. ValidationError: bad key.
        InvalidDefinition: bad definition. AlreadyExists: the flag exists.
    """
    check_key(key, "flag")
    check_actor(actor, reason)
    check_lookup(environment=environment)
    with store.unit_of_work() as uow:
        uow.environments.get(environment, lock=True)
        stored = uow.flags.find(environment, key, lock=True)
        if stored is not None and not stored.deleted:
            raise AlreadyExists(
                f"flag {key!r} already exists in environment {environment!r}",
                details={"environment": environment, "flag": key},
            )
        canonical = validate_flag(uow, environment, key, definition)
        current = None if stored is None else stored.record
        write = FlagWrite(action=AuditAction.FLAG_CREATED, actor=actor, reason=reason)
        return write_flag(uow, current, canonical, write, target=(environment, key))


def get_flag(store: SqlStore, environment: str, key: str) -> FlagRecord:
    """Return the current state of a flag. Raises ``NotFound`` (environment or flag)."""
    check_lookup(environment=environment, flag=key)
    with store.unit_of_work() as uow:
        return live_flag(uow, environment, key)


def find_flag(store: SqlStore, environment: str, key: str) -> FlagRecord | None:
    """Return the flag, or ``None`` if it does not exist. Raises ``NotFound`` (environment)."""
    check_lookup(environment=environment, flag=key)
    with store.unit_of_work() as uow:
        stored = uow.flags.find(environment, key)
        return None if stored is None or stored.deleted else stored.record


def list_flags(store: SqlStore, environment: str) -> list[FlagRecord]:
    """Return the environment's flags, sorted by key. Raises ``NotFound`` (environment)."""
    check_lookup(environment=environment)
    with store.unit_of_work() as uow:
        return uow.flags.list(environment)


def update_flag(  # noqa: PLR0913  # store, subject, payload + keyword-only version, actor, reason (issue 4)
    store: SqlStore,
    environment: str,
    key: str,
    definition: Mapping[str, Any],
    *,
    expected_version: int,
    actor: str,
    reason: str | None = None,
) -> FlagRecord:
    """Replace the flag's definition with ``definition``.

    An identical definition writes nothing and returns the flag as it is.

    Raises:
        NotFound, InvalidDefinition, Conflict (``expected_version`` is not the current one;
        ``details`` carries ``expected_version`` and ``current_version``).
    """
    write = FlagWrite(
        action=AuditAction.FLAG_UPDATED,
        actor=actor,
        reason=reason,
        expected_version=required_version(expected_version),
    )
    return change_flag(store, environment, key, lambda _current: definition, write)


def delete_flag(
    store: SqlStore,
    environment: str,
    key: str,
    *,
    expected_version: int | None = None,
    actor: str,
    reason: str | None = None,
) -> None:
    """Delete the flag; its history is kept (a final version marked ``deleted``).

    Raises:
        NotFound, Conflict (stale version, or another flag lists it as a prerequisite).
    """
    check_actor(actor, reason)
    check_lookup(environment=environment, flag=key)
    with store.unit_of_work() as uow:
        uow.environments.get(environment, lock=True)
        current = live_flag(uow, environment, key, lock=True)
        check_version(
            "flag", {"environment": environment, "flag": key}, expected_version, current.version
        )
        flags = {flag.key: flag.definition for flag in uow.flags.list(environment)}
        dependents = dependent_flags(flags, key)
        if dependents:
            raise Conflict(
                f"flag {key!r} is a prerequisite of {', '.join(dependents)}; change those first",
                details={"environment": environment, "flag": key, "flags": dependents},
            )
        write = FlagWrite(action=AuditAction.FLAG_DELETED, actor=actor, reason=reason)
        write_flag(uow, current, current.definition, write, target=(environment, key))


def flag_history(store: SqlStore, environment: str, key: str) -> list[FlagVersion]:
    """Return every version of the flag, newest first (deleted flags included).

    Raises:
        NotFound: the flag never existed in that environment.
    """
    check_lookup(environment=environment, flag=key)
    with store.unit_of_work() as uow:
        versions = uow.flags.history(environment, key)
    if not versions:
        raise flag_not_found(environment, key)
    return versions


def get_flag_version(store: SqlStore, environment: str, key: str, version: int) -> FlagVersion:
    """Return one version of the flag.

    Raises:
        ValidationError: ``version`` is not a positive 32-bit integer. NotFound.
    """
    check_number(version, "version", minimum=1, maximum=MAX_VERSION)
    check_lookup(environment=environment, flag=key)
    with store.unit_of_work() as uow:
        found = uow.flags.find_version(environment, key, version)
    if found is None:
        raise _version_not_found(environment, key, version)
    return found


def _version_not_found(environment: str, key: str, version: int) -> NotFound:
    return NotFound(
        f"flag {key!r} in environment {environment!r} has no version {version!r}",
        details={"environment": environment, "flag": key, "version": version},
    )


def restore_flag(  # noqa: PLR0913  # store, subject, payload + keyword-only version, actor, reason (issue 4)
    store: SqlStore,
    environment: str,
    key: str,
    version: int,
    *,
    expected_version: int | None,
    actor: str,
    reason: str | None = None,
) -> FlagRecord:
    """Write a NEW version whose definition equals ``version``'s (audited ``flag.restored``).

    Restores a deleted flag too (``expected_version`` is then its last, deleted, version).
    The old content is validated again against today's segments; segments themselves are not
    restored: a flag that tests ``in_segment`` serves the segment as it is now.

    Args:
        expected_version: the flag's newest version as the caller read it; a restore replaces
            the whole definition, so it must not overwrite a change the caller never saw.
            Required: ``None`` (what an HTTP request without a version carries) is refused.

    Raises:
        ValidationError: no ``expected_version``. NotFound: no such flag or version.
        Conflict: stale ``expected_version``.
        InvalidDefinition: the old definition no longer validates (e.g. a segment is gone).
    """
    check_actor(actor, reason)
    check_number(version, "version", minimum=1, maximum=MAX_VERSION)
    required_version(expected_version)
    check_lookup(environment=environment, flag=key)
    with store.unit_of_work() as uow:
        uow.environments.get(environment, lock=True)
        stored = uow.flags.find(environment, key, lock=True)
        old = uow.flags.find_version(environment, key, version)
        if stored is None or old is None:
            raise _version_not_found(environment, key, version)
        check_version(
            "flag",
            {"environment": environment, "flag": key},
            expected_version,
            stored.record.version,
        )
        canonical = validate_flag(uow, environment, key, old.definition)
        write = FlagWrite(
            action=AuditAction.FLAG_RESTORED,
            actor=actor,
            reason=reason or f"restore version {version}",
        )
        return write_flag(uow, stored.record, canonical, write, target=(environment, key))
