"""``/api/v1/flags/{key}/...``: the targeted changes (enable, disable, kill, rollout, targets).

Each changes one field and keeps the rest as stored, so ``expected_version`` is optional;
when given (in the body or ``If-Match``) a stale one still gets 409 ``conflict``. ``kill`` is
never refused for a stale version: it is the emergency stop.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Response

from rheostat import service
from rheostat.api.auth import actor_for
from rheostat.api.deps import (
    AdminKey,
    EnvironmentQuery,
    IfMatch,
    Transaction,
    resolve_expected_version,
)
from rheostat.api.routers.flags import flag_response
from rheostat.api.schemas.common import ChangeRequest
from rheostat.api.schemas.flags import FlagPublic, KillRequest, RolloutChange, TargetsChange

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/flags", tags=["flags"])

OptionalChange = Annotated[ChangeRequest | None, Body()]


@router.post("/{key}/enable")
def enable_flag(  # noqa: PLR0913  # FastAPI injects each dependency as a parameter
    key: str,
    environment: EnvironmentQuery,
    uow: Transaction,
    api_key: AdminKey,
    response: Response,
    body: OptionalChange = None,
    if_match: IfMatch = None,
) -> FlagPublic:
    """Turn the flag on: its rules and targets apply again."""
    change = body or ChangeRequest()
    record = service.enable_flag(
        uow,
        environment,
        key,
        change=service.Change(
            actor=actor_for(api_key),
            reason=change.reason,
            expected_version=resolve_expected_version(change.expected_version, if_match),
        ),
    )
    return flag_response(record, response)


@router.post("/{key}/disable")
def disable_flag(  # noqa: PLR0913  # FastAPI injects each dependency as a parameter
    key: str,
    environment: EnvironmentQuery,
    uow: Transaction,
    api_key: AdminKey,
    response: Response,
    body: OptionalChange = None,
    if_match: IfMatch = None,
) -> FlagPublic:
    """Turn the flag off: everyone gets its default variant."""
    change = body or ChangeRequest()
    record = service.disable_flag(
        uow,
        environment,
        key,
        change=service.Change(
            actor=actor_for(api_key),
            reason=change.reason,
            expected_version=resolve_expected_version(change.expected_version, if_match),
        ),
    )
    return flag_response(record, response)


@router.post("/{key}/kill")
def kill_flag(
    key: str,
    environment: EnvironmentQuery,
    uow: Transaction,
    api_key: AdminKey,
    response: Response,
    body: Annotated[KillRequest | None, Body()] = None,
) -> FlagPublic:
    """Engage the kill switch now; recorded as ``flag.killed`` even if it was already off."""
    reason = body.reason if body else None
    record = service.kill_flag(
        uow, environment, key, change=service.Change(actor=actor_for(api_key), reason=reason)
    )
    return flag_response(record, response)


@router.post("/{key}/rollout")
def set_rollout(  # noqa: PLR0913  # FastAPI injects each dependency as a parameter
    key: str,
    environment: EnvironmentQuery,
    body: RolloutChange,
    uow: Transaction,
    api_key: AdminKey,
    response: Response,
    if_match: IfMatch = None,
) -> FlagPublic:
    """Serve a bool flag's "on" variant to ``percent`` % of contexts (3 decimals)."""
    record = service.set_rollout_percentage(
        uow,
        environment,
        key,
        body.percent,
        change=service.Change(
            actor=actor_for(api_key),
            reason=body.reason,
            expected_version=resolve_expected_version(body.expected_version, if_match),
        ),
    )
    return flag_response(record, response)


@router.post("/{key}/targets")
def add_targets(  # noqa: PLR0913  # FastAPI injects each dependency as a parameter
    key: str,
    environment: EnvironmentQuery,
    body: TargetsChange,
    uow: Transaction,
    api_key: AdminKey,
    response: Response,
    if_match: IfMatch = None,
) -> FlagPublic:
    """Serve ``variant`` to these user keys and group members (an allow-list)."""
    record = service.add_flag_targets(
        uow,
        environment,
        key,
        users=body.users,
        groups=body.groups,
        variant=body.variant,
        change=service.Change(
            actor=actor_for(api_key),
            reason=body.reason,
            expected_version=resolve_expected_version(body.expected_version, if_match),
        ),
    )
    return flag_response(record, response)


@router.post("/{key}/targets/remove")
def remove_targets(  # noqa: PLR0913  # FastAPI injects each dependency as a parameter
    key: str,
    environment: EnvironmentQuery,
    body: TargetsChange,
    uow: Transaction,
    api_key: AdminKey,
    response: Response,
    if_match: IfMatch = None,
) -> FlagPublic:
    """Remove these user keys and groups from every target of the flag."""
    record = service.remove_flag_targets(
        uow,
        environment,
        key,
        users=body.users,
        groups=body.groups,
        change=service.Change(
            actor=actor_for(api_key),
            reason=body.reason,
            expected_version=resolve_expected_version(body.expected_version, if_match),
        ),
    )
    return flag_response(record, response)
