"""Segments: named, reusable condition lists, per environment.

A segment change is validated together with every flag of the environment (a flag may test
``in_segment``), so a change that would break a flag is refused with ``InvalidDefinition``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rheostat.errors import AlreadyExists, Conflict, NotFound
from rheostat.flags.canonical import canonical_environment, is_same_definition
from rheostat.flags.summary import segment_users
from rheostat.inputs import validate_key, validate_lookup
from rheostat.service.audit import record_audit
from rheostat.service.change import Change, refuse_stale
from rheostat.store.records import AuditAction, SegmentRecord, SegmentVersion
from rheostat.store.repositories import SegmentChange
from rheostat.store.unit_of_work import UnitOfWork

__all__ = [
    "create_segment",
    "delete_segment",
    "get_segment",
    "list_segments",
    "record_segment_change",
    "restore_segments_of",
    "segment_change",
    "segment_history",
    "update_segment",
]


def create_segment(
    uow: UnitOfWork,
    environment: str,
    key: str,
    definition: Mapping[str, Any],
    *,
    change: Change,
) -> SegmentRecord:
    """Create a segment (``{"conditions": [...], "description": "..."}``).

    Raises:
        NotFound (environment), ValidationError (key), InvalidDefinition, AlreadyExists.
    """
    validate_key(key, "segment")
    validate_lookup(environment=environment)
    uow.environments.get(environment, lock=True)
    if uow.segments.find(environment, key) is not None:
        raise AlreadyExists(
            f"segment {key!r} already exists in environment {environment!r}",
            details={"environment": environment, "segment": key},
        )
    canonical = _validated(uow, environment, key, definition)
    created = uow.segments.add(
        environment, key, canonical, segment_change(uow, AuditAction.SEGMENT_CREATED, change)
    )
    record_segment_change(
        uow,
        AuditAction.SEGMENT_CREATED,
        (environment, key),
        (None, created),
        change,
    )
    return created


def get_segment(uow: UnitOfWork, environment: str, key: str) -> SegmentRecord:
    """Return one segment. Raises ``NotFound``."""
    validate_lookup(environment=environment, segment=key)
    return _existing(uow, environment, key)


def list_segments(uow: UnitOfWork, environment: str) -> list[SegmentRecord]:
    """Return the environment's segments, sorted by key. Raises ``NotFound`` (environment)."""
    validate_lookup(environment=environment)
    return uow.segments.list(environment)


def update_segment(
    uow: UnitOfWork,
    environment: str,
    key: str,
    definition: Mapping[str, Any],
    *,
    change: Change,
) -> SegmentRecord:
    """Replace a segment's definition.

    Every flag that tests ``in_segment`` with it changes behaviour without a new flag version;
    each gets a ``flag.segment_changed`` audit event (``record_segment_change``).

    Raises:
        ValidationError (no ``change.expected_version``), NotFound, InvalidDefinition,
        Conflict (stale ``change.expected_version``).
    """
    change.required_version()
    validate_lookup(environment=environment, segment=key)
    uow.environments.get(environment, lock=True)
    current = _existing(uow, environment, key, lock=True)
    refuse_stale(
        "segment",
        {"environment": environment, "segment": key},
        change.expected_version,
        current.version,
    )
    canonical = _validated(uow, environment, key, definition)
    if is_same_definition(current.definition, canonical):
        return current
    updated = uow.segments.save(
        environment, key, canonical, segment_change(uow, AuditAction.SEGMENT_UPDATED, change)
    )
    record_segment_change(
        uow,
        AuditAction.SEGMENT_UPDATED,
        (environment, key),
        (current, updated),
        change,
    )
    return updated


def delete_segment(
    uow: UnitOfWork,
    environment: str,
    key: str,
    *,
    change: Change,
) -> None:
    """Delete a segment that no flag uses.

    Raises:
        NotFound. Conflict: a flag still uses it (``details["flags"]`` names them), or the
        version is stale.
    """
    validate_lookup(environment=environment, segment=key)
    uow.environments.get(environment, lock=True)
    current = _existing(uow, environment, key, lock=True)
    refuse_stale(
        "segment",
        {"environment": environment, "segment": key},
        change.expected_version,
        current.version,
    )
    flags = {flag.key: flag.definition for flag in uow.flags.list(environment)}
    users = segment_users(flags, key)
    if users:
        raise Conflict(
            f"segment {key!r} is used by flag(s) {', '.join(users)}; change them first",
            details={"environment": environment, "segment": key, "flags": users},
        )
    uow.segments.delete(environment, key, segment_change(uow, AuditAction.SEGMENT_DELETED, change))
    record_segment_change(
        uow,
        AuditAction.SEGMENT_DELETED,
        (environment, key),
        (current, None),
        change,
    )


def segment_change(uow: UnitOfWork, action: AuditAction, change: Change) -> SegmentChange:
    """The history facts of a segment version written in ``uow`` for ``change``."""
    return SegmentChange(action=action, actor=change.actor, reason=change.reason, at=uow.now)


def segment_history(uow: UnitOfWork, environment: str, key: str) -> list[SegmentVersion]:
    """Return every version of the segment, newest first (deleted segments included).

    Raises:
        NotFound: the segment never existed in that environment.
    """
    validate_lookup(environment=environment, segment=key)
    versions = uow.segments.versions(environment, key)
    if not versions:
        raise NotFound(
            f"segment {key!r} never existed in environment {environment!r}",
            details={"environment": environment, "segment": key},
        )
    return versions


def restore_segments_of(
    uow: UnitOfWork, environment: str, pins: Mapping[str, int], *, change: Change
) -> list[SegmentRecord]:
    """Bring the segments named in ``pins`` back to those versions (a flag version's pins).

    A segment already at its pinned version is left alone; one that changed since, or was
    deleted, gets a new version holding the old definition, audited ``segment.restored`` (and
    ``flag.segment_changed`` on every other flag that tests it: they change too).

    Returns:
        The segments written, in key order.
    """
    restored: list[SegmentRecord] = []
    for key, version in sorted(pins.items()):
        current = uow.segments.find(environment, key, lock=True)
        if current is not None and current.version == version:
            continue
        old = uow.segments.find_version(environment, key, version)
        if old is None:  # history lost (cannot happen from 0003 on): keep today's segment
            continue
        facts = segment_change(uow, AuditAction.SEGMENT_RESTORED, change)
        written = (
            uow.segments.add(environment, key, old.definition, facts)
            if current is None
            else uow.segments.save(environment, key, old.definition, facts)
        )
        record_segment_change(
            uow, AuditAction.SEGMENT_RESTORED, (environment, key), (current, written), change
        )
        restored.append(written)
    return restored


def _existing(uow: UnitOfWork, environment: str, key: str, *, lock: bool = False) -> SegmentRecord:
    found = uow.segments.find(environment, key, lock=lock)
    if found is None:
        raise NotFound(
            f"segment {key!r} does not exist in environment {environment!r}",
            details={"environment": environment, "segment": key},
        )
    return found


def _validated(
    uow: UnitOfWork, environment: str, key: str, definition: Mapping[str, Any]
) -> dict[str, Any]:
    segments = {segment.key: segment.definition for segment in uow.segments.list(environment)}
    segments[key] = definition
    flags = {flag.key: flag.definition for flag in uow.flags.list(environment)}
    canonical: dict[str, Any] = canonical_environment(flags, segments)["segments"][key]
    return canonical


def record_segment_change(
    uow: UnitOfWork,
    action: AuditAction,
    target: tuple[str, str],
    states: tuple[SegmentRecord | None, SegmentRecord | None],
    change: Change,
) -> None:
    """Audit a segment change of ``target`` (environment, key) and mark the environment changed.

    An update is also written to the audit trail of every flag that tests the segment
    (``flag.segment_changed``, before and after naming the segment and its versions): those
    flags serve differently from now on without a new flag version, and restoring an old
    flag version does not bring the old segment back.
    """
    environment, key = target
    before, after = states
    record_audit(
        uow,
        action,
        subject=f"segment:{key}",
        environment=environment,
        states=(_state(before), _state(after)),
        change=change,
    )
    if action in (AuditAction.SEGMENT_UPDATED, AuditAction.SEGMENT_RESTORED):
        _record_for_flags(uow, target, (_flag_view(key, before), _flag_view(key, after)), change)
    uow.mark_changed(environment)


def _record_for_flags(
    uow: UnitOfWork,
    target: tuple[str, str],
    states: tuple[dict[str, Any] | None, dict[str, Any] | None],
    change: Change,
) -> None:
    environment, key = target
    flags = {flag.key: flag.definition for flag in uow.flags.list(environment)}
    for flag in segment_users(flags, key):
        record_audit(
            uow,
            AuditAction.FLAG_SEGMENT_CHANGED,
            subject=f"flag:{flag}",
            environment=environment,
            states=states,
            change=change,
        )


def _flag_view(key: str, segment: SegmentRecord | None) -> dict[str, Any] | None:
    """A segment's state as a flag's audit trail shows it: which segment, and its state."""
    state = _state(segment)
    return None if state is None else {"segment": key, **state}


def _state(segment: SegmentRecord | None) -> dict[str, Any] | None:
    if segment is None:
        return None
    return {"version": segment.version, "definition": dict(segment.definition)}
