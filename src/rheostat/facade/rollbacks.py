"""``RollbackManager``: seed 001's rollback API on top of rheostat's rollbacks.

```python
rollback = RollbackManager(database_url="postgresql://...", environment="production")
rollback.add_hook(page_the_on_call)                      # called after each rollback commits
await rollback.rollback_immediate("new_ner_model", reason="High error rate detected")
await rollback.rollback_gradual("new_ner_model", reason="Performance degradation",
                                stages=[75, 50, 25, 0])
await rollback.rollback_targeted("new_ner_model", reason="User reports",
                                 user_ids=["user123", "user456"])
await rollback.rollback_immediate("ner_model", reason="Bug in v5", rollback_to_version=4)
history = rollback.get_rollback_history()
```

Differences from the seed, all deliberate:

* Each rollback is one transaction: a new flag version with its audit event, the history
  entry, webhook events, and any running release plan of the flag aborted.
* ``rollback_gradual`` applies its first step at once and returns; the next steps are
  applied by the controller (``rheostat controller run``) when each bake is over, or by
  ``step_due()`` here. ``stages`` are shares of the exposure at the start (75 % of 40 % is
  30 %) and must end at 0.
* ``rollback_to_version`` is a flag version (``rheostat flags history``); the seed's
  ``register_version`` of component versions has no equivalent: flag versions are recorded
  with every change.
* Hooks are Python callables ``hook(event)`` run in this process after commit, for every
  rollback event (``rollback.started``, ``.step``, ``.completed``, ``.cancelled``) of the
  store, including steps the controller applies in this process. A hook that raises is
  logged; the rollback stays. Other processes use webhooks (``rheostat webhooks add``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rheostat.clock import Clock
from rheostat.errors import ValidationError
from rheostat.facade.awaited import AwaitedCall
from rheostat.facade.managed_store import ManagedStore
from rheostat.service import (
    DEFAULT_GRADUAL_STEPS,
    Change,
    OutboxEvent,
    RollbackMode,
    RollbackRecord,
    RollbackRequest,
    SqlStore,
    list_flags,
    rollback_data,
    rollback_flag,
    rollback_history,
    step_due_rollbacks,
)

__all__ = ["RollbackManager", "RollbackResult", "RollbackStrategy"]

_LOGGER = logging.getLogger(__name__)

RollbackStrategy = RollbackMode
"""The seed's ``RollbackStrategy``: ``IMMEDIATE``, ``GRADUAL``, ``TARGETED``, ``VERSION``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RollbackResult:
    """What a rollback did (seed 001's ``result``).

    Attributes:
        success: the rollback was applied (a gradual one: its first step).
        rollback_id: its entry in ``get_rollback_history``.
        strategy: how. status: ``completed``, or ``running`` for a gradual one with steps left.
        from_percentage, to_percentage: the exposure before and after (``None`` when it does
            not apply: a targeted rollback, or a flag that is not on/off).
        flag_version: the flag's version the rollback wrote.
        next_step_at: when a gradual rollback's next step is due.
        plans_stopped: release plans of the flag that were aborted.
    """

    success: bool
    flag: str
    rollback_id: int
    strategy: RollbackMode
    status: str
    reason: str | None
    actor: str
    at: datetime
    from_percentage: float | None
    to_percentage: float | None
    flag_version: int
    next_step_at: datetime | None
    plans_stopped: tuple[str, ...]
    details: dict[str, Any]


class RollbackManager:
    """Seed 001's ``RollbackManager`` over the rheostat store.

    ``RollbackManager(database_url=...)`` migrates and opens that database;
    ``RollbackManager(store=...)`` uses an open ``SqlStore``; with neither, the database of
    ``RHEOSTAT_DATABASE_URL``. The seed's positional ``flag_manager`` and
    ``hot_swap_manager`` are accepted and unused.
    """

    def __init__(  # noqa: PLR0913  # the seed's positionals, then keyword-only options
        self,
        flag_manager: object = None,
        hot_swap_manager: object = None,
        *,
        database_url: str | None = None,
        store: SqlStore | None = None,
        environment: str = "production",
        actor: str = "rollback-manager",
        clock: Clock | None = None,
    ) -> None:
        del flag_manager, hot_swap_manager  # flags change through the services
        self._managed = ManagedStore(
            database_url=database_url,
            store=store,
            environment=environment,
            actor=actor,
            clock=clock,
        )
        self._hooks: list[Callable[[OutboxEvent], None]] = []

    # The seed's calls -------------------------------------------------------------------------

    def rollback_immediate(
        self, flag: str, reason: str, rollback_to_version: int | str | None = None
    ) -> Coroutine[Any, Any, RollbackResult]:
        """Kill switch: off for everyone now; or, with ``rollback_to_version``, back to that
        flag version. Async: ``await`` it."""
        if rollback_to_version is None:
            request = RollbackRequest(mode=RollbackMode.IMMEDIATE)
        else:
            request = RollbackRequest(
                mode=RollbackMode.VERSION, version=_version(rollback_to_version)
            )
        return self._rollback(flag, request, reason, "rollback_immediate")

    def rollback_gradual(
        self,
        flag: str,
        reason: str,
        stages: Sequence[float] = DEFAULT_GRADUAL_STEPS,
        *,
        bake: timedelta = timedelta(minutes=5),
    ) -> Coroutine[Any, Any, RollbackResult]:
        """Step the exposure down through ``stages`` (shares of it, ending at 0), ``bake``
        apart; the first step now. Async: ``await`` it."""
        request = RollbackRequest(
            mode=RollbackMode.GRADUAL, steps=tuple(float(s) for s in stages), bake=bake
        )
        return self._rollback(flag, request, reason, "rollback_gradual")

    def rollback_targeted(  # the seed's signature, then more kinds of target
        self,
        flag: str,
        reason: str,
        user_ids: Iterable[str] = (),
        *,
        group_ids: Iterable[str] = (),
        org_ids: Iterable[str] = (),
        org_attribute: str = "org_id",
    ) -> Coroutine[Any, Any, RollbackResult]:
        """Serve the off value to these users, groups and organisations only. Async."""
        request = RollbackRequest(
            mode=RollbackMode.TARGETED,
            users=tuple(str(u) for u in user_ids),
            groups=tuple(str(g) for g in group_ids),
            orgs=tuple(str(o) for o in org_ids),
            org_attribute=org_attribute,
        )
        return self._rollback(flag, request, reason, "rollback_targeted")

    def rollback_to_version(
        self, flag: str, version: int, reason: str
    ) -> Coroutine[Any, Any, RollbackResult]:
        """Write a new flag version equal to ``version``. Async."""
        request = RollbackRequest(mode=RollbackMode.VERSION, version=_version(version))
        return self._rollback(flag, request, reason, "rollback_to_version")

    def get_rollback_history(self, flag: str | None = None) -> list[RollbackResult]:
        """Rollbacks of ``flag`` (or of every flag of the environment), newest first."""
        self._managed.refuse_forgotten()
        managed = self._managed
        with managed.store.reading() as uow:
            keys = (
                [flag]
                if flag is not None
                else [f.key for f in list_flags(uow, managed.environment)]
            )
            records = [r for key in keys for r in rollback_history(uow, managed.environment, key)]
        return [_result(record) for record in sorted(records, key=lambda r: -r.id)]

    # Hooks and steps --------------------------------------------------------------------------

    def add_hook(self, hook: Callable[[OutboxEvent], None]) -> None:
        """Call ``hook(event)`` after each rollback event commits in this process."""

        def rollback_events(event: OutboxEvent) -> None:
            if event.type.startswith("rollback."):
                hook(event)

        self._hooks.append(rollback_events)
        self._managed.store.add_event_listener(rollback_events)

    def step_due(self) -> list[RollbackResult]:
        """Apply the gradual steps that are due now (what the controller does each round)."""
        self._managed.refuse_forgotten()
        with self._managed.store.unit_of_work() as uow:
            return [_result(record) for record in step_due_rollbacks(uow)]

    def close(self) -> None:
        """Remove this manager's hooks; release the connections it opened."""
        for hook in self._hooks:
            self._managed.store.remove_event_listener(hook)
        self._hooks.clear()
        self._managed.close()

    # Helpers ----------------------------------------------------------------------------------

    def _rollback(
        self, flag: str, request: RollbackRequest, reason: str, call: str
    ) -> Coroutine[Any, Any, RollbackResult]:
        self._managed.refuse_forgotten()
        work = self._run(flag, request, reason)
        return AwaitedCall(work, forgotten=self._forgot, call=f"{call}({flag!r})")

    async def _run(self, flag: str, request: RollbackRequest, reason: str) -> RollbackResult:
        return await asyncio.to_thread(self._in_transaction, flag, request, reason)

    def _in_transaction(self, flag: str, request: RollbackRequest, reason: str) -> RollbackResult:
        managed = self._managed
        change = Change(actor=managed.actor, reason=reason)
        with managed.store.unit_of_work() as uow:
            record = rollback_flag(uow, managed.environment, flag, request, change=change)
        return _result(record)

    def _forgot(self, call: str) -> None:
        self._managed.forgot("RollbackManager", call, _LOGGER)


def _version(value: int | str) -> int:
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValidationError(
        f"rollback_to_version is a flag version number (see `rheostat flags history`),"
        f" got {value!r}",
        details={"field": "rollback_to_version"},
    )


def _result(record: RollbackRecord) -> RollbackResult:
    data = rollback_data(record)
    before, after = data["from"], data["to"]
    return RollbackResult(
        success=True,
        flag=record.flag,
        rollback_id=record.id,
        strategy=record.mode,
        status=record.status.value,
        reason=record.reason,
        actor=record.actor,
        at=record.started_at,
        from_percentage=before.get("percent") if before.get("enabled", True) else 0.0,
        to_percentage=0.0 if after.get("enabled") is False else after.get("percent"),
        flag_version=record.flag_version,
        next_step_at=record.next_step_at,
        plans_stopped=tuple(data["plans_stopped"]),
        details=dict(record.details),
    )
