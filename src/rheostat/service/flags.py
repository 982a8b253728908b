"""Flags: every change validates, writes a new immutable version and an audit event.

Definitions are native flag definitions (ARCHITECTURE.md, "Native flag document"), validated by
building the environment's ``FlagSet`` (all its flags and segments, with this one changed); a
bad one raises ``InvalidDefinition`` naming the path (``flags.<key>.rules[0].serve``). The
stored definition is the canonical one (``FlagSet.to_dict``), without a ``version`` field.

Every function runs in the caller's transaction (``uow``); changes take a ``Change`` (actor,
reason, expected version). ``update_flag`` and ``restore_flag`` replace the whole definition, so
they must name the version the caller read; a stale one raises ``Conflict`` and nothing
changes. The targeted operations (enable, disable, kill, set rollout percentage, add/remove
targets), ``edit_flag`` and ``delete_flag`` accept an ``expected_version`` too; without one
they apply to the newest version inside the transaction, which loses nothing because they
change what they name and keep the rest as stored.
Writes to one environment are serialised (its row is locked), so a change is always validated
against the environment as it is committed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rheostat.errors import AlreadyExists, Conflict, NotFound
from rheostat.flags.summary import dependent_flags
from rheostat.inputs import MAX_VERSION, validate_key, validate_lookup, validate_number
from rheostat.service.change import Change, refuse_stale
from rheostat.service.flag_changes import (
    Edit,
    FlagWrite,
    change_flag,
    flag_not_found,
    live_flag,
    validate_flag,
    write_flag,
)
from rheostat.service.flag_switches import (
    add_flag_targets,
    disable_flag,
    enable_flag,
    kill_flag,
    remove_flag_targets,
    set_rollout_percentage,
)
from rheostat.service.segments import restore_segments_of
from rheostat.store.records import AuditAction, FlagRecord, FlagVersion
from rheostat.store.unit_of_work import UnitOfWork

__all__ = [
    "add_flag_targets",
    "create_flag",
    "delete_flag",
    "disable_flag",
    "edit_flag",
    "enable_flag",
    "find_flag",
    "flag_history",
    "get_flag",
    "get_flag_version",
    "kill_flag",
    "list_flags",
    "put_flag",
    "remove_flag_targets",
    "restore_flag",
    "set_rollout_percentage",
    "update_flag",
]


def create_flag(
    uow: UnitOfWork,
    environment: str,
    key: str,
    definition: Mapping[str, Any],
    *,
    change: Change,
) -> FlagRecord:
    """Create flag ``key`` in ``environment`` at version 1.

    A flag that was deleted may be created again: its history continues.

    Raises:
        NotFound: no such environment. ValidationError: bad key.
        InvalidDefinition: bad definition. AlreadyExists: the flag exists.
    """
    validate_key(key, "flag")
    validate_lookup(environment=environment)
    uow.environments.get(environment, lock=True)
    stored = uow.flags.find(environment, key, lock=True)
    if stored is not None and not stored.deleted:
        raise AlreadyExists(
            f"flag {key!r} already exists in environment {environment!r}",
            details={"environment": environment, "flag": key},
        )
    canonical = validate_flag(uow, environment, key, definition)
    current = None if stored is None else stored.record
    write = FlagWrite(action=AuditAction.FLAG_CREATED, change=change)
    return write_flag(uow, current, canonical, write, target=(environment, key))


def put_flag(
    uow: UnitOfWork,
    environment: str,
    key: str,
    definition: Mapping[str, Any],
    *,
    change: Change,
) -> FlagRecord:
    """Create the flag, or replace its definition if it exists (seed 001's ``set_flag``).

    Without ``change.expected_version`` the replacement is unconditional: the environment is
    locked before the flag is read, so concurrent puts apply one after the other and none
    fails. With it, a stale version raises ``Conflict`` (and a missing flag is created only for
    ``expected_version=0``).

    Raises:
        NotFound (environment), ValidationError, InvalidDefinition, Conflict.
    """
    validate_key(key, "flag")
    validate_lookup(environment=environment)
    uow.environments.get(environment, lock=True)
    stored = uow.flags.find(environment, key, lock=True)
    if stored is None or stored.deleted:
        refuse_stale("flag", {"environment": environment, "flag": key}, change.expected_version, 0)
        return create_flag(uow, environment, key, definition, change=change)
    write = FlagWrite(action=AuditAction.FLAG_UPDATED, change=change)
    return change_flag(uow, environment, key, lambda _current: definition, write)


def get_flag(uow: UnitOfWork, environment: str, key: str) -> FlagRecord:
    """Return the current state of a flag. Raises ``NotFound`` (environment or flag)."""
    validate_lookup(environment=environment, flag=key)
    return live_flag(uow, environment, key)


def find_flag(uow: UnitOfWork, environment: str, key: str) -> FlagRecord | None:
    """Return the flag, or ``None`` if it does not exist. Raises ``NotFound`` (environment)."""
    validate_lookup(environment=environment, flag=key)
    stored = uow.flags.find(environment, key)
    return None if stored is None or stored.deleted else stored.record


def list_flags(uow: UnitOfWork, environment: str) -> list[FlagRecord]:
    """Return the environment's flags, sorted by key. Raises ``NotFound`` (environment)."""
    validate_lookup(environment=environment)
    return uow.flags.list(environment)


def update_flag(
    uow: UnitOfWork,
    environment: str,
    key: str,
    definition: Mapping[str, Any],
    *,
    change: Change,
) -> FlagRecord:
    """Replace the flag's definition with ``definition``.

    A replacement must name the version it read (``change.expected_version``). An identical
    definition writes nothing and returns the flag as it is.

    Raises:
        ValidationError: no ``expected_version``.
        NotFound, InvalidDefinition, Conflict (``expected_version`` is not the current one;
        ``details`` carries ``expected_version`` and ``current_version``).
    """
    change.required_version()
    write = FlagWrite(action=AuditAction.FLAG_UPDATED, change=change)
    return change_flag(uow, environment, key, lambda _current: definition, write)


def edit_flag(
    uow: UnitOfWork, environment: str, key: str, edit: Edit, *, change: Change
) -> FlagRecord:
    """Apply a pure ``edit`` (current definition in, wanted definition out) to the flag.

    Without ``change.expected_version`` the edit sees the flag as it is committed (the
    environment is locked), so concurrent unconditional edits all apply and none conflicts:
    what ``FeatureFlagManager`` and ``rheostat flags set`` without ``--expected-version`` use.

    Raises:
        NotFound, InvalidDefinition, Conflict (a stale ``expected_version`` only).
    """
    write = FlagWrite(action=AuditAction.FLAG_UPDATED, change=change)
    return change_flag(uow, environment, key, edit, write)


def delete_flag(uow: UnitOfWork, environment: str, key: str, *, change: Change) -> None:
    """Delete the flag; its history is kept (a final version marked ``deleted``).

    Raises:
        NotFound, Conflict (stale version, or another flag lists it as a prerequisite).
    """
    validate_lookup(environment=environment, flag=key)
    uow.environments.get(environment, lock=True)
    current = live_flag(uow, environment, key, lock=True)
    refuse_stale(
        "flag", {"environment": environment, "flag": key}, change.expected_version, current.version
    )
    flags = {flag.key: flag.definition for flag in uow.flags.list(environment)}
    dependents = dependent_flags(flags, key)
    if dependents:
        raise Conflict(
            f"flag {key!r} is a prerequisite of {', '.join(dependents)}; change those first",
            details={"environment": environment, "flag": key, "flags": dependents},
        )
    write = FlagWrite(action=AuditAction.FLAG_DELETED, change=change)
    write_flag(uow, current, current.definition, write, target=(environment, key))


def flag_history(uow: UnitOfWork, environment: str, key: str) -> list[FlagVersion]:
    """Return every version of the flag, newest first (deleted flags included).

    Raises:
        NotFound: the flag never existed in that environment.
    """
    validate_lookup(environment=environment, flag=key)
    versions = uow.flags.history(environment, key)
    if not versions:
        raise flag_not_found(environment, key)
    return versions


def get_flag_version(uow: UnitOfWork, environment: str, key: str, version: int) -> FlagVersion:
    """Return one version of the flag.

    Raises:
        ValidationError: ``version`` is not a positive 32-bit integer. NotFound.
    """
    validate_number(version, "version", minimum=1, maximum=MAX_VERSION)
    validate_lookup(environment=environment, flag=key)
    found = uow.flags.find_version(environment, key, version)
    if found is None:
        raise _version_not_found(environment, key, version)
    return found


def _version_not_found(environment: str, key: str, version: int) -> NotFound:
    return NotFound(
        f"flag {key!r} in environment {environment!r} has no version {version!r}",
        details={"environment": environment, "flag": key, "version": version},
    )


def restore_flag(
    uow: UnitOfWork, environment: str, key: str, version: int, *, change: Change
) -> FlagRecord:
    """Write a NEW version whose definition equals ``version``'s (audited ``flag.restored``).

    Restores a deleted flag too (``expected_version`` is then its last, deleted, version).
    The segments that version tested are brought back as they were when it was written
    (``restore_segments_of``), so the flag serves exactly what it served then; versions
    written before segment history existed (schema 0003) are checked against today's.

    Args:
        change: its ``expected_version`` is required: the flag's newest version as the caller
            read it, since a restore replaces the whole definition.

    Raises:
        ValidationError: no ``expected_version``. NotFound: no such flag or version.
        Conflict: stale ``expected_version``.
        InvalidDefinition: the old definition no longer validates.
    """
    validate_number(version, "version", minimum=1, maximum=MAX_VERSION)
    expected = change.required_version()
    validate_lookup(environment=environment, flag=key)
    uow.environments.get(environment, lock=True)
    stored = uow.flags.find(environment, key, lock=True)
    old = uow.flags.find_version(environment, key, version)
    if stored is None or old is None:
        raise _version_not_found(environment, key, version)
    refuse_stale("flag", {"environment": environment, "flag": key}, expected, stored.record.version)
    restored_change = change.with_reason(f"restore version {version}")
    if old.segments:
        restore_segments_of(uow, environment, old.segments, change=restored_change)
    canonical = validate_flag(uow, environment, key, old.definition)
    write = FlagWrite(action=AuditAction.FLAG_RESTORED, change=restored_change)
    return write_flag(uow, stored.record, canonical, write, target=(environment, key))
