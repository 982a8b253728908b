"""``/api/v1/plans``: release plans, their status, and an operator's commands.

The controller (``rheostat controller run``) moves plans; a command here (pause, resume,
approve, advance, abort, rollback) is applied at once, in the request's transaction.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, status

from rheostat import service
from rheostat.api.auth import actor_for
from rheostat.api.deps import AdminKey, EnvironmentQuery, Transaction
from rheostat.api.schemas.common import ItemList
from rheostat.api.schemas.plans import PlanCommandRequest, PlanCreate, PlanStatusPublic
from rheostat.rollout import plan_from_dict
from rheostat.rollout.state import Command, CommandKind

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/plans", tags=["plans"])


def _status(uow: service.UnitOfWork, environment: str, name: str) -> PlanStatusPublic:
    record = service.get_plan(uow, environment, name)
    events = service.plan_events(uow, environment, name)
    return PlanStatusPublic.model_validate(service.plan_status_document(record, events))


@router.post("", status_code=status.HTTP_201_CREATED)
def create_plan(body: PlanCreate, uow: Transaction, api_key: AdminKey) -> PlanStatusPublic:
    """Store a plan document (validated whole, 422 naming the path) and start it."""
    plan = plan_from_dict(body.document)
    actor = actor_for(api_key)
    service.create_plan(uow, plan, change=service.Change(actor=actor, reason=body.reason))
    if body.start:
        command = Command(kind=CommandKind.START, actor=actor, reason=body.reason)
        service.command_plan(uow, plan.environment, plan.name, command)
    return _status(uow, plan.environment, plan.name)


@router.get("")
def list_plans(
    environment: EnvironmentQuery, uow: Transaction, _: AdminKey
) -> ItemList[PlanStatusPublic]:
    """The environment's plans, sorted by name, each with its status."""
    records = service.list_plans(uow, environment)
    return ItemList(items=[_status(uow, environment, record.name) for record in records])


@router.get("/{name}")
def plan_status(
    name: str, environment: EnvironmentQuery, uow: Transaction, _: AdminKey
) -> PlanStatusPublic:
    """Where the plan is, with every event and its evidence."""
    return _status(uow, environment, name)


@router.post("/{name}/{verb}")
def command_plan(
    name: str,
    verb: CommandKind,
    environment: EnvironmentQuery,
    uow: Transaction,
    api_key: AdminKey,
    body: Annotated[PlanCommandRequest | None, Body()] = None,
) -> PlanStatusPublic:
    """start, pause, resume, approve, advance, abort or rollback the plan, now."""
    reason = None if body is None else body.reason
    command = Command(kind=verb, actor=actor_for(api_key), reason=reason)
    service.command_plan(uow, environment, name, command)
    return _status(uow, environment, name)
