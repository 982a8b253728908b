"""Release plans (document + state, version-checked) and their append-only events."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rheostat.errors import AlreadyExists, Conflict, NotFound
from rheostat.rollout.codec import state_from_dict, state_to_dict
from rheostat.rollout.plans import plan_from_dict, plan_to_dict
from rheostat.rollout.state import TERMINAL_PHASES, Phase, PlanState
from rheostat.store.records import PlanEvent, PlanRecord
from rheostat.store.repositories.environments import EnvironmentRepository
from rheostat.store.tables import EnvironmentRow, PlanEventRow, ReleasePlanRow

__all__ = ["PlanRepository"]

_RESTING = tuple(sorted(phase.value for phase in {Phase.PENDING, *TERMINAL_PHASES}))
"""Phases no controller ticks: not started yet, or finished."""


class PlanRepository:
    """Reads and writes ``release_plans`` and ``plan_events`` in one session."""

    def __init__(self, session: Session, environments: EnvironmentRepository) -> None:
        self._session = session
        self._environments = environments

    def add(self, state: PlanState, *, at: datetime) -> PlanRecord:
        """Store a new plan at version 1. Raises ``AlreadyExists``."""
        plan = state.plan
        row = ReleasePlanRow(
            environment_id=self._environments.id_of(plan.environment),
            name=plan.name,
            flag=plan.flag,
            document=plan_to_dict(plan),
            state=state_to_dict(state),
            phase=state.phase.value,
            version=1,
            created_at=at,
            updated_at=at,
        )
        self._session.add(row)
        try:
            self._session.flush()
        except IntegrityError as error:
            raise AlreadyExists(
                f"plan {plan.name!r} already exists in environment {plan.environment!r}",
                details={"environment": plan.environment, "plan": plan.name},
            ) from error
        return _record(row, plan.environment)

    def find(self, environment: str, name: str, *, lock: bool = False) -> PlanRecord | None:
        """Return the plan, or ``None``; ``lock`` holds its row until commit."""
        row = self._row(environment, name, lock=lock)
        return None if row is None else _record(row, environment)

    def list(self, environment: str) -> builtins.list[PlanRecord]:
        """Return the environment's plans, sorted by name."""
        rows = self._session.scalars(
            select(ReleasePlanRow)
            .where(ReleasePlanRow.environment_id == self._environments.id_of(environment))
            .order_by(ReleasePlanRow.name)
        )
        return [_record(row, environment) for row in rows]

    def active(self) -> builtins.list[tuple[str, str]]:
        """``(environment, name)`` of every plan a controller should tick, oldest first."""
        rows = self._session.execute(
            select(EnvironmentRow.key, ReleasePlanRow.name)
            .join(EnvironmentRow, EnvironmentRow.id == ReleasePlanRow.environment_id)
            .where(ReleasePlanRow.phase.not_in(_RESTING))
            .order_by(ReleasePlanRow.id)
        )
        return [(environment, name) for environment, name in rows]

    def claim(
        self, owner: str, *, now: datetime, until: datetime, limit: int
    ) -> builtins.list[tuple[str, str]]:
        """Lease up to ``limit`` active plans to ``owner`` until ``until``: those it holds
        already, those nobody holds and those whose lease expired. Return them, oldest first.

        On PostgreSQL rows another controller is claiming right now are skipped, not waited
        for (``FOR UPDATE SKIP LOCKED``); SQLite has one writer at a time anyway.
        """
        claimable = (
            select(ReleasePlanRow.id)
            .where(
                ReleasePlanRow.phase.not_in(_RESTING),
                or_(
                    ReleasePlanRow.lease_owner.is_(None),
                    ReleasePlanRow.lease_owner == owner,
                    ReleasePlanRow.lease_expires_at < now,
                ),
            )
            .order_by(ReleasePlanRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        ids = list(self._session.scalars(claimable))
        if not ids:
            return []
        self._session.execute(
            update(ReleasePlanRow)
            .where(ReleasePlanRow.id.in_(ids))
            .values(lease_owner=owner, lease_expires_at=until)
            .execution_options(synchronize_session=False)
        )
        rows = self._session.execute(
            select(EnvironmentRow.key, ReleasePlanRow.name)
            .join(EnvironmentRow, EnvironmentRow.id == ReleasePlanRow.environment_id)
            .where(ReleasePlanRow.id.in_(ids))
            .order_by(ReleasePlanRow.id)
        )
        return [(environment, name) for environment, name in rows]

    def lease(self, environment: str, name: str) -> tuple[str | None, datetime | None]:
        """``(owner, expires_at)`` of the plan's lease; ``(None, None)`` when nobody holds it."""
        row = self._required_row(environment, name)
        return row.lease_owner, row.lease_expires_at

    def release(self, owner: str) -> int:
        """Give up every lease ``owner`` holds; return how many."""
        released = self._session.scalars(
            update(ReleasePlanRow)
            .where(ReleasePlanRow.lease_owner == owner)
            .values(lease_owner=None, lease_expires_at=None)
            .returning(ReleasePlanRow.id)
            .execution_options(synchronize_session=False)
        )
        return len(released.all())

    def save(self, record: PlanRecord, state: PlanState, *, at: datetime) -> PlanRecord:
        """Write ``state`` as the plan's next version. Raises ``Conflict`` if it moved."""
        row = self._row(record.environment, record.name, lock=True)
        if row is None or row.version != record.version:
            raise Conflict(
                f"plan {record.name!r} changed since it was read; read it again",
                details={"environment": record.environment, "plan": record.name},
            )
        row.state = state_to_dict(state)
        row.phase = state.phase.value
        row.version = row.version + 1
        row.updated_at = at
        self._session.flush()
        return _record(row, record.environment)

    def add_events(self, record: PlanRecord, events: Sequence[PlanEvent]) -> None:
        """Append events to the plan's history."""
        row = self._required_row(record.environment, record.name)
        for event in events:
            self._session.add(
                PlanEventRow(
                    plan_id=row.id,
                    at=event.at,
                    type=event.type,
                    stage=event.stage,
                    message=event.message,
                    evidence=dict(event.evidence),
                    actor=event.actor,
                )
            )
        self._session.flush()

    def events(self, environment: str, name: str) -> builtins.list[PlanEvent]:
        """Return the plan's events, oldest first."""
        row = self._required_row(environment, name)
        rows = self._session.scalars(
            select(PlanEventRow).where(PlanEventRow.plan_id == row.id).order_by(PlanEventRow.id)
        )
        return [
            PlanEvent(
                environment=environment,
                plan=name,
                at=event.at,
                type=event.type,
                stage=event.stage,
                message=event.message,
                evidence=dict(event.evidence),
                actor=event.actor,
            )
            for event in rows
        ]

    def _row(self, environment: str, name: str, *, lock: bool = False) -> ReleasePlanRow | None:
        statement = select(ReleasePlanRow).where(
            ReleasePlanRow.environment_id == self._environments.id_of(environment),
            ReleasePlanRow.name == name,
        )
        if lock:
            statement = statement.with_for_update()
        return self._session.scalar(statement)

    def _required_row(self, environment: str, name: str) -> ReleasePlanRow:
        row = self._row(environment, name)
        if row is None:
            raise NotFound(
                f"plan {name!r} does not exist in environment {environment!r}",
                details={"environment": environment, "plan": name},
            )
        return row


def _record(row: ReleasePlanRow, environment: str) -> PlanRecord:
    plan = plan_from_dict(row.document)
    return PlanRecord(
        environment=environment,
        name=row.name,
        state=state_from_dict(plan, row.state),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
