"""How each rollback mode changes the flag: one function per mode, chosen by ``MODES``.

``immediate`` turns the flag off (the kill switch), ``gradual`` serves a share of its current
exposure (the next shares are stepped by ``rollbacks``), ``targeted`` turns it off for named
users, groups and organisations, and ``version`` restores a stored version. Each writes one
flag version with its audit event and returns what it did.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rheostat.errors import ValidationError
from rheostat.flags.edits import (
    bool_variants,
    current_exposure,
    with_enabled,
    with_exposure,
    with_rollback_targets,
)
from rheostat.service.change import Change
from rheostat.service.flag_changes import FlagWrite, change_flag
from rheostat.service.flags import restore_flag
from rheostat.service.rollback_requests import RollbackRequest
from rheostat.store.operations_records import RollbackMode
from rheostat.store.records import AuditAction, FlagRecord
from rheostat.store.unit_of_work import UnitOfWork

__all__ = ["MODES", "Applied", "exposure_facts", "set_share"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Applied:
    """What a mode did: the flag's new version, its facts, and a gradual rollback's steps
    left and the exposure it started from."""

    flag: FlagRecord
    to: dict[str, Any]
    steps: tuple[float, ...] = ()
    start_percent: float = 0.0


def _immediate(
    uow: UnitOfWork, flag: FlagRecord, _request: RollbackRequest, change: Change
) -> Applied:
    write = FlagWrite(action=AuditAction.FLAG_KILLED, change=change, always=True)
    killed = change_flag(
        uow, flag.environment, flag.key, lambda d: with_enabled(d, enabled=False), write
    )
    return Applied(flag=killed, to={"enabled": False, "version": killed.version})


def _gradual(
    uow: UnitOfWork, flag: FlagRecord, request: RollbackRequest, change: Change
) -> Applied:
    percent, _, _ = current_exposure(flag.definition, flag.key)
    if not flag.enabled or percent <= 0:
        raise ValidationError(
            f"flag {flag.key!r} serves its change to nobody (off, or at 0 %):"
            " there is nothing to roll back gradually",
            details={"flag": flag.key, "field": "mode"},
        )
    first, *rest = request.steps
    stepped = set_share(uow, flag, percent, first, change)
    return Applied(
        flag=stepped,
        to=exposure_facts(stepped),
        steps=tuple(rest),
        start_percent=percent,
    )


def _targeted(
    uow: UnitOfWork, flag: FlagRecord, request: RollbackRequest, change: Change
) -> Applied:
    bool_variants(flag.definition, flag.key)
    write = FlagWrite(action=AuditAction.FLAG_TARGETS_ADDED, change=change)

    def edit(definition: Mapping[str, Any]) -> Mapping[str, Any]:
        return with_rollback_targets(
            definition,
            flag.key,
            users=request.users,
            groups=request.groups,
            orgs=request.orgs,
            org_attribute=request.org_attribute,
        )

    edited = change_flag(uow, flag.environment, flag.key, edit, write)
    targets = {"users": list(request.users), "groups": list(request.groups)}
    return Applied(
        flag=edited,
        to={"version": edited.version, "off_for": {**targets, "orgs": list(request.orgs)}},
    )


def _to_version(
    uow: UnitOfWork, flag: FlagRecord, request: RollbackRequest, change: Change
) -> Applied:
    assert request.version is not None  # noqa: S101  # _check requires it for this mode
    restored = restore_flag(
        uow,
        flag.environment,
        flag.key,
        request.version,
        change=Change(actor=change.actor, reason=change.reason, expected_version=flag.version),
    )
    return Applied(
        flag=restored,
        to={"version": restored.version, "restored_version": request.version},
    )


MODES: Mapping[
    RollbackMode, Callable[[UnitOfWork, FlagRecord, RollbackRequest, Change], Applied]
] = {
    RollbackMode.IMMEDIATE: _immediate,
    RollbackMode.GRADUAL: _gradual,
    RollbackMode.TARGETED: _targeted,
    RollbackMode.VERSION: _to_version,
}


def set_share(
    uow: UnitOfWork, flag: FlagRecord, start_percent: float, share: float, change: Change
) -> FlagRecord:
    """Serve ``share`` % of ``start_percent``, keeping the ring and a holdback no larger."""
    _, holdback, segments = current_exposure(flag.definition, flag.key)
    percent = round(start_percent * share / 100, 3)
    reason = f"{change.reason}: gradual step to {share:g}% of {start_percent:g}% = {percent:g}%"
    stepped = Change(actor=change.actor, reason=reason)
    write = FlagWrite(action=AuditAction.FLAG_ROLLOUT_SET, change=stepped)

    def edit(definition: Mapping[str, Any]) -> Mapping[str, Any]:
        return with_exposure(
            definition,
            flag.key,
            percent=percent,
            holdback_percent=min(holdback, percent),
            segments=segments,
        )

    return change_flag(uow, flag.environment, flag.key, edit, write)


def exposure_facts(flag: FlagRecord) -> dict[str, Any]:
    """The flag's version, whether it is on, and its exposure when it has one."""
    facts: dict[str, Any] = {"version": flag.version, "enabled": flag.enabled}
    try:
        percent, holdback, segments = current_exposure(flag.definition, flag.key)
    except ValidationError:
        return facts
    return {**facts, "percent": percent, "holdback_percent": holdback, "segments": list(segments)}
