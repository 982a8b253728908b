"""The one path every flag change takes: lock, check version, edit, validate, write, audit."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rheostat.errors import NotFound
from rheostat.flags.canonical import canonical_environment, is_same_definition
from rheostat.flags.summary import segments_tested
from rheostat.inputs import validate_lookup
from rheostat.service.audit import record_audit
from rheostat.service.change import Change, refuse_stale
from rheostat.store.records import AuditAction, FlagRecord
from rheostat.store.repositories import FlagChange
from rheostat.store.unit_of_work import UnitOfWork

__all__ = [
    "Edit",
    "FlagWrite",
    "audit_state",
    "change_flag",
    "flag_not_found",
    "live_flag",
    "segment_pins",
    "validate_flag",
    "write_flag",
]

Edit = Callable[[Mapping[str, Any]], Mapping[str, Any]]
"""A pure edit: the current definition in, the wanted definition out."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FlagWrite:
    """What is written (the audit action), by whom, why, and on which version."""

    action: AuditAction
    change: Change
    always: bool = False
    """Audit even when the definition does not change (a kill is always recorded)."""


def flag_not_found(environment: str, key: str) -> NotFound:
    """The ``NotFound`` for a missing flag."""
    return NotFound(
        f"flag {key!r} does not exist in environment {environment!r}",
        details={"environment": environment, "flag": key},
    )


def live_flag(uow: UnitOfWork, environment: str, key: str, *, lock: bool = False) -> FlagRecord:
    """Return the flag if it exists and is not deleted. Raises ``NotFound``."""
    stored = uow.flags.find(environment, key, lock=lock)
    if stored is None or stored.deleted:
        raise flag_not_found(environment, key)
    return stored.record


def validate_flag(
    uow: UnitOfWork, environment: str, key: str, definition: Mapping[str, Any]
) -> dict[str, Any]:
    """Validate ``definition`` as flag ``key`` among the environment's other flags and segments.

    Returns the canonical definition (what is stored). Raises ``InvalidDefinition``.
    """
    flags = {flag.key: flag.definition for flag in uow.flags.list(environment)}
    flags[key] = definition
    segments = {segment.key: segment.definition for segment in uow.segments.list(environment)}
    canonical: dict[str, Any] = canonical_environment(flags, segments)["flags"][key]
    return canonical


def segment_pins(
    uow: UnitOfWork, environment: str, definition: Mapping[str, Any]
) -> dict[str, int]:
    """The versions of the segments ``definition`` tests, as stored now (what a flag version
    depends on: a restore brings them back)."""
    pins: dict[str, int] = {}
    for key in segments_tested(definition):
        found = uow.segments.find(environment, key)
        if found is not None:
            pins[key] = found.version
    return pins


def audit_state(flag: FlagRecord) -> dict[str, Any]:
    """The audit log's before/after value for a flag."""
    return {"version": flag.version, "definition": dict(flag.definition)}


def write_flag(
    uow: UnitOfWork,
    current: FlagRecord | None,
    definition: Mapping[str, Any],
    write: FlagWrite,
    *,
    target: tuple[str, str],
) -> FlagRecord:
    """Write ``definition`` as the next version of ``target`` (environment, key), audited.

    ``current`` is the stored state (``None`` for a flag that never existed); a deleted flag's
    last version counts as current, so re-creating or restoring it continues its history.
    """
    environment, key = target
    stored_version = 0 if current is None else current.version
    written = uow.flags.write(
        environment,
        key,
        definition,
        FlagChange(
            expected_version=stored_version,
            action=write.action,
            actor=write.change.actor,
            reason=write.change.reason,
            at=uow.now,
            deleted=write.action is AuditAction.FLAG_DELETED,
            segments=segment_pins(uow, environment, definition),
        ),
    )
    deleted = write.action is AuditAction.FLAG_DELETED
    record_audit(
        uow,
        write.action,
        subject=f"flag:{key}",
        environment=environment,
        states=(
            None if current is None else audit_state(current),
            None if deleted else audit_state(written),
        ),
        change=write.change,
    )
    uow.mark_changed(environment)
    # the revision this change lands in: what an SDK must run to have applied it (reach)
    uow.sdk_processes.stamp_flag(environment, key, uow.environments.revision_of(environment))
    return written


def change_flag(
    uow: UnitOfWork, environment: str, key: str, edit: Edit, write: FlagWrite
) -> FlagRecord:
    """Apply ``edit`` to the newest version of a live flag, in ``uow``'s transaction.

    The environment is locked first, so a change without ``expected_version`` is applied to
    the flag as it is committed and never conflicts with a concurrent one.

    When the edit changes nothing, nothing is written (unless ``write.always``: then only an
    audit event is) and the current flag is returned.

    Raises:
        NotFound, Conflict (``write.change.expected_version`` is stale), InvalidDefinition,
        ValidationError (from ``edit``).
    """
    validate_lookup(environment=environment, flag=key)
    uow.environments.get(environment, lock=True)
    current = live_flag(uow, environment, key, lock=True)
    subject = {"environment": environment, "flag": key}
    refuse_stale("flag", subject, write.change.expected_version, current.version)
    canonical = validate_flag(uow, environment, key, edit(current.definition))
    if not is_same_definition(current.definition, canonical):
        return write_flag(uow, current, canonical, write, target=(environment, key))
    if write.always:
        state = audit_state(current)
        record_audit(
            uow,
            write.action,
            subject=f"flag:{key}",
            environment=environment,
            states=(state, state),
            change=write.change,
        )
    return current
