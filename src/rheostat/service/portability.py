"""Import and export of an environment as a native document."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from rheostat.errors import InvalidDefinition, ValidationError
from rheostat.flags.canonical import canonical_environment, is_same_definition
from rheostat.inputs import validate_key, validate_lookup
from rheostat.service.change import Change
from rheostat.service.flag_changes import FlagWrite, write_flag
from rheostat.service.segments import record_segment_change, segment_change
from rheostat.store.records import AuditAction, FlagRecord, SegmentRecord
from rheostat.store.unit_of_work import UnitOfWork

__all__ = ["ImportMode", "ImportResult", "export_flags", "import_flags"]

_DOCUMENT_FIELDS = frozenset({"version", "segments", "flags"})


class ImportMode(StrEnum):
    """What happens to flags and segments the document does not mention."""

    MERGE = "merge"
    """They are kept."""
    REPLACE = "replace"
    """They are deleted (with history kept)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportResult:
    """What an import changed; each tuple holds keys, sorted."""

    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    segments_created: tuple[str, ...] = ()
    segments_updated: tuple[str, ...] = ()
    segments_deleted: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether anything was written."""
        return any(
            (
                self.created,
                self.updated,
                self.deleted,
                self.segments_created,
                self.segments_updated,
                self.segments_deleted,
            )
        )


def export_flags(uow: UnitOfWork, environment: str) -> dict[str, Any]:
    """Return the environment as a native document (``version``, ``segments``, ``flags``).

    ``import_flags`` of the result into an empty environment recreates it. Raises ``NotFound``.
    """
    validate_lookup(environment=environment)
    uow.environments.get(environment)
    return {
        "version": 1,
        "segments": {s.key: dict(s.definition) for s in uow.segments.list(environment)},
        "flags": {f.key: dict(f.definition) for f in uow.flags.list(environment)},
    }


def import_flags(
    uow: UnitOfWork,
    environment: str,
    document: Mapping[str, Any],
    *,
    mode: ImportMode | str = ImportMode.MERGE,
    dry_run: bool = False,
    change: Change,
) -> ImportResult:
    """Load a native document into ``environment``: all of it, or nothing.

    The whole resulting environment is validated first; each changed flag gets a new version
    and an audit event (``flag.imported``). Identical flags are left alone.

    Args:
        dry_run: compute and validate the result, then roll back.

    Raises:
        NotFound (environment), InvalidDefinition (naming the path), ValidationError (mode),
        Conflict (replace would delete a flag another one depends on).
    """
    chosen = _mode(mode)
    incoming_flags, incoming_segments = _parts(document)
    validate_lookup(environment=environment)
    uow.environments.get(environment, lock=True)
    flags = {flag.key: flag for flag in uow.flags.list(environment)}
    segments = {segment.key: segment for segment in uow.segments.list(environment)}
    wanted = _merged(chosen, (flags, segments), (incoming_flags, incoming_segments))
    result = _plan(flags, segments, wanted)
    if not dry_run:
        _apply(uow, environment, result, wanted, (flags, segments), change)
    return result


Stored = tuple[dict[str, FlagRecord], dict[str, SegmentRecord]]
Incoming = tuple[Mapping[str, Any], Mapping[str, Any]]


def _mode(mode: ImportMode | str) -> ImportMode:
    try:
        return ImportMode(mode)
    except ValueError:
        raise ValidationError(
            f"unknown import mode {mode!r} (merge or replace)", details={"field": "mode"}
        ) from None


def _parts(document: Mapping[str, Any]) -> Incoming:
    if not isinstance(document, Mapping):
        raise InvalidDefinition("", "a flag document must be a mapping")
    unknown = sorted(set(document) - _DOCUMENT_FIELDS)
    if unknown:
        raise InvalidDefinition(
            unknown[0], "unknown field (native documents have version, segments, flags)"
        )
    if document.get("version", 1) != 1:
        raise InvalidDefinition(
            "version", f"unsupported document version {document.get('version')!r}; use 1"
        )
    flags, segments = _or_empty(document.get("flags")), _or_empty(document.get("segments"))
    for name, part in (("flags", flags), ("segments", segments)):
        if not isinstance(part, Mapping):
            raise InvalidDefinition(name, "must be a mapping of keys to definitions")
    for key in flags:
        validate_key(key, "flag")
    for key in segments:
        validate_key(key, "segment")
    return flags, segments


def _merged(mode: ImportMode, stored: Stored, incoming: Incoming) -> dict[str, Any]:
    """The environment after the import, validated and canonical."""
    flags: dict[str, Any] = {}
    segments: dict[str, Any] = {}
    if mode is ImportMode.MERGE:
        flags.update((key, flag.definition) for key, flag in stored[0].items())
        segments.update((key, segment.definition) for key, segment in stored[1].items())
    flags.update(incoming[0])
    segments.update(incoming[1])
    return canonical_environment(flags, segments)


def _plan(
    flags: Mapping[str, FlagRecord], segments: Mapping[str, SegmentRecord], wanted: Any
) -> ImportResult:
    flag_changes = _diff({k: f.definition for k, f in flags.items()}, wanted["flags"])
    segment_changes = _diff({k: s.definition for k, s in segments.items()}, wanted["segments"])
    return ImportResult(
        created=flag_changes["created"],
        updated=flag_changes["updated"],
        unchanged=flag_changes["unchanged"],
        deleted=flag_changes["deleted"],
        segments_created=segment_changes["created"],
        segments_updated=segment_changes["updated"],
        segments_deleted=segment_changes["deleted"],
    )


def _diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    kept = [key for key in after if key in before]
    same = {key for key in kept if is_same_definition(before[key], after[key])}
    return {
        "created": tuple(sorted(set(after) - set(before))),
        "updated": tuple(sorted(set(kept) - same)),
        "unchanged": tuple(sorted(same)),
        "deleted": tuple(sorted(set(before) - set(after))),
    }


def _apply(
    uow: UnitOfWork,
    environment: str,
    result: ImportResult,
    wanted: Any,
    stored: Stored,
    change: Change,
) -> None:
    _apply_segments(uow, environment, result, wanted["segments"], stored[1], change)
    for key in (*result.created, *result.updated):
        current = stored[0].get(key) or _deleted_flag(uow, environment, key)
        write = FlagWrite(action=AuditAction.FLAG_IMPORTED, change=change)
        write_flag(uow, current, wanted["flags"][key], write, target=(environment, key))
    for key in result.deleted:
        write = FlagWrite(action=AuditAction.FLAG_DELETED, change=change)
        current = stored[0][key]
        write_flag(uow, current, current.definition, write, target=(environment, key))


def _deleted_flag(uow: UnitOfWork, environment: str, key: str) -> FlagRecord | None:
    """A deleted flag being imported again continues its history."""
    found = uow.flags.find(environment, key, lock=True)
    return None if found is None else found.record


def _apply_segments(
    uow: UnitOfWork,
    environment: str,
    result: ImportResult,
    wanted: Mapping[str, Any],
    stored: Mapping[str, SegmentRecord],
    change: Change,
) -> None:
    written: list[tuple[AuditAction, str, SegmentRecord | None, SegmentRecord | None]] = []
    for key in result.segments_created:
        created = uow.segments.add(
            environment, key, wanted[key], segment_change(uow, AuditAction.SEGMENT_CREATED, change)
        )
        written.append((AuditAction.SEGMENT_CREATED, key, None, created))
    for key in result.segments_updated:
        updated = uow.segments.save(
            environment, key, wanted[key], segment_change(uow, AuditAction.SEGMENT_UPDATED, change)
        )
        written.append((AuditAction.SEGMENT_UPDATED, key, stored[key], updated))
    for key in result.segments_deleted:
        uow.segments.delete(
            environment, key, segment_change(uow, AuditAction.SEGMENT_DELETED, change)
        )
        written.append((AuditAction.SEGMENT_DELETED, key, stored[key], None))
    for action, key, before, after in written:
        record_segment_change(uow, action, (environment, key), (before, after), change)


def _or_empty(part: Any) -> Any:
    """An absent or null part is empty; a wrong type is kept for the check to name."""
    return {} if part is None else part
