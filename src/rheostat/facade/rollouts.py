"""``RolloutManager``: seed 001's rollout API on top of rheostat's release plans.

```python
rollout = RolloutManager(database_url="postgresql://...", environment="production")
await rollout.start_rollout(
    "new_ner_model",
    strategy=RolloutStrategy.CANARY,            # 1 -> 5 -> 10 -> 25 -> 50 -> 100 %
    validation_func=validate_model,             # def/async def validate_model(percentage) -> bool
    target_percentage=100,
)
status = rollout.get_rollout_status("new_ner_model")
print(status.phase.value, status.current_percentage, status.error)
```

Differences from the seed, all deliberate:

* ``start_rollout`` stores a release plan (from ``rheostat.rollout.templates``) and starts
  it; it does not run the stages itself. The controller (``rheostat controller run``, or
  ``tick()`` here) moves it: stage by stage, with a bake between stages, the validation
  function judged at every look (a callable gate in ``rollback`` mode), and a rollback as
  soon as it fails. So it survives restarts and several processes can watch it.
* ``validation_func`` must be a module-level function (the controller imports it by name,
  ``module:function``); a lambda or a closure is refused with ``ValidationError``. It may be
  ``async``. It is called with the current percentage and answers ``True`` to go on.
* ``phase`` is the plan's state (``RolloutPhase.COMPLETED``, ``ROLLED_BACK``, ``PAUSED``...);
  ``error`` says why it stopped.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from rheostat.clock import Clock
from rheostat.errors import NotFound, ValidationError
from rheostat.facade.awaited import AwaitedCall
from rheostat.facade.managed_store import ManagedStore
from rheostat.rollout import plan_from_dict
from rheostat.rollout.state import TERMINAL_PHASES, Command, CommandKind, Phase
from rheostat.service import (
    Change,
    PlanRecord,
    SqlStore,
    UnitOfWork,
    command_plan,
    create_flag,
    create_plan,
    find_flag,
    list_plans,
    tick_plan,
)

__all__ = ["RolloutManager", "RolloutPhase", "RolloutStatus", "RolloutStrategy"]

_LOGGER = logging.getLogger(__name__)

RolloutPhase = Phase
"""The seed's phase names are the plan's states: ``RolloutPhase.COMPLETED``, ``.FAILED``..."""
_STOPPED = (Phase.ROLLED_BACK, Phase.FAILED, Phase.PAUSED)


class RolloutStrategy(StrEnum):
    """Seed 001's strategies (and seed 002's ``LINEAR``), each a plan template."""

    CANARY = "canary"
    """1 -> 5 -> 10 -> 25 -> 50 -> 100 %, each baking 5 minutes, with a holdback."""
    BLUE_GREEN = "blue_green"
    """Validate at 0 %, then switch everyone (the target)."""
    PERCENTAGE = "percentage"
    """Your own ``percentages`` (default 10, 25, 50, 100)."""
    RING = "ring"
    """Internal -> beta -> everyone (segments ``internal`` and ``beta``)."""
    LINEAR = "linear"
    """Seed 002: 0 -> 10 -> 25 -> 50 -> 100 %, a week each."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RolloutStatus:
    """Where a flag's latest rollout is (seed 001's ``get_rollout_status``).

    Attributes:
        phase: the plan's state (``RolloutPhase``); ``phase.value`` is its name.
        current_percentage: the share of users who have the change now.
        error: why it stopped (rolled back, failed, paused), else ``None``.
        stage: 1-based current stage (``None`` once past the last); stages: how many.
        plan: the release plan's name (``rheostat rollout status <plan>``).
    """

    flag: str
    plan: str
    phase: Phase
    current_percentage: float
    error: str | None
    stage: int | None
    stages: int
    holdback_percentage: float


class RolloutManager:
    """Seed 001's ``RolloutManager`` over release plans in the rheostat store.

    ``RolloutManager(database_url=...)`` migrates and opens that database;
    ``RolloutManager(store=...)`` uses an open ``SqlStore``; with neither, the database of
    ``RHEOSTAT_DATABASE_URL``. The seed's positional ``flag_manager`` is accepted and unused.
    """

    def __init__(  # the seed's positional, then keyword-only options
        self,
        flag_manager: object = None,
        *,
        database_url: str | None = None,
        store: SqlStore | None = None,
        environment: str = "production",
        actor: str = "rollout-manager",
        clock: Clock | None = None,
    ) -> None:
        del flag_manager  # flags are changed through the plan, in the store
        self._managed = ManagedStore(
            database_url=database_url,
            store=store,
            environment=environment,
            actor=actor,
            clock=clock,
        )

    def start_rollout(  # noqa: PLR0913  # the seed's signature, then keyword-only options
        self,
        flag: str,
        strategy: RolloutStrategy | str = RolloutStrategy.CANARY,
        validation_func: Callable[[float], object] | None = None,
        target_percentage: float | None = None,
        *,
        bake: timedelta | None = None,
        percentages: Sequence[float] | None = None,
        gates: Iterable[Mapping[str, Any]] = (),
        on_failure: str = "immediate",
    ) -> Coroutine[Any, Any, RolloutStatus]:
        """Store a release plan for ``flag`` from ``strategy`` and start it: async, ``await``
        it. The flag is created (a bool flag, off) if missing.

        Args:
            validation_func: judged at every look while the change is exposed (a callable
                gate in ``rollback`` mode); a module-level function, sync or async.
            target_percentage: where the rollout ends (default 100).
            bake: each stage's bake (the template's default: 5 minutes, a week for linear).
            percentages: for ``PERCENTAGE`` (default 10, 25, 50, 100).
            gates: more gates, as in a plan document (``{"metric": ..., "max": ...}``).
            on_failure: ``immediate`` or ``gradual`` rollback, or ``hold``.

        Raises:
            ValidationError: a validation function the controller cannot import, or a bad
                option (when awaited: InvalidDefinition naming the plan key).
        """
        self._managed.refuse_forgotten()
        document = self._document(
            flag,
            RolloutStrategy(strategy),
            validation_func,
            target_percentage,
            options={"bake": bake, "percentages": percentages, "gates": list(gates)},
        )
        document["on_failure"] = {"rollback": on_failure} if on_failure != "hold" else "hold"
        work = self._start(flag, document)
        return AwaitedCall(work, forgotten=self._forgot, call=f"start_rollout({flag!r})")

    def get_rollout_status(self, flag: str) -> RolloutStatus:
        """The flag's latest rollout. Raises ``NotFound`` (no rollout of that flag)."""
        self._managed.refuse_forgotten()
        with self._managed.store.reading() as uow:
            return _status(self._latest(uow, flag))

    def tick(self) -> list[RolloutStatus]:
        """One controller look at every running rollout of this environment (what
        ``rheostat controller run`` does each interval); returns their statuses. For a
        process that runs no controller: it takes no lease."""
        self._managed.refuse_forgotten()
        environment = self._managed.environment
        with self._managed.store.reading() as uow:
            names = [
                record.name
                for record in list_plans(uow, environment)
                if record.state.phase not in (Phase.PENDING, *TERMINAL_PHASES)
            ]
        statuses = []
        for name in names:
            with self._managed.store.unit_of_work() as uow:
                statuses.append(_status(tick_plan(uow, environment, name).plan))
        return statuses

    def pause_rollout(self, flag: str, reason: str | None = None) -> RolloutStatus:
        """Hold the flag's rollout where it is."""
        return self._command(flag, CommandKind.PAUSE, reason)

    def resume_rollout(self, flag: str, reason: str | None = None) -> RolloutStatus:
        """Resume a paused rollout (its bake starts again)."""
        return self._command(flag, CommandKind.RESUME, reason)

    def approve_stage(self, flag: str, reason: str | None = None) -> RolloutStatus:
        """Approve the stage that waits for approval."""
        return self._command(flag, CommandKind.APPROVE, reason)

    def abort_rollout(self, flag: str, reason: str | None = None) -> RolloutStatus:
        """Stop the rollout; the flag stays as it is."""
        return self._command(flag, CommandKind.ABORT, reason)

    def rollback_rollout(self, flag: str, reason: str | None = None) -> RolloutStatus:
        """Roll the rollout back now, as its ``on_failure`` says."""
        return self._command(flag, CommandKind.ROLLBACK, reason)

    def close(self) -> None:
        """Release the database connections this manager opened (not a store passed in)."""
        self._managed.close()

    # Helpers ----------------------------------------------------------------------------------

    def _document(
        self,
        flag: str,
        strategy: RolloutStrategy,
        validation_func: Callable[[float], object] | None,
        target_percentage: float | None,
        *,
        options: Mapping[str, Any],
    ) -> dict[str, Any]:
        document: dict[str, Any] = {
            "flag": flag,
            "environment": self._managed.environment,
            "strategy": strategy.value,
        }
        if target_percentage is not None:
            document["target_percentage"] = target_percentage
        if options["bake"] is not None:
            document["bake"] = f"{int(options['bake'].total_seconds())}s"
        if strategy is RolloutStrategy.PERCENTAGE:
            document["percentages"] = list(options["percentages"] or (10, 25, 50, 100))
        gates = list(options["gates"])
        if validation_func is not None:
            target = _import_path(validation_func)
            gates.append({"name": "validation_func", "callable": target, "mode": "rollback"})
        document["gates"] = gates
        return document

    async def _start(self, flag: str, document: dict[str, Any]) -> RolloutStatus:
        managed = self._managed
        change = Change(actor=managed.actor, reason=f"start_rollout({flag!r})")
        with managed.store.unit_of_work() as uow:
            if find_flag(uow, managed.environment, flag) is None:
                create_flag(uow, managed.environment, flag, {}, change=change)
            taken = [p.name for p in list_plans(uow, managed.environment)]
            document["plan"] = _free_name(flag, str(document["strategy"]), taken)
            plan = plan_from_dict(document)
            create_plan(uow, plan, change=change)
            started = Command(kind=CommandKind.START, actor=managed.actor, reason=change.reason)
            report = command_plan(uow, managed.environment, plan.name, started)
        return _status(report.plan)

    def _command(self, flag: str, kind: CommandKind, reason: str | None) -> RolloutStatus:
        self._managed.refuse_forgotten()
        managed = self._managed
        with managed.store.unit_of_work() as uow:
            latest = self._latest(uow, flag)
            command = Command(kind=kind, actor=managed.actor, reason=reason)
            return _status(command_plan(uow, managed.environment, latest.name, command).plan)

    def _latest(self, uow: UnitOfWork, flag: str) -> PlanRecord:
        plans = [
            plan
            for plan in list_plans(uow, self._managed.environment)
            if plan.state.plan.flag == flag
        ]
        if not plans:
            raise NotFound(
                f"flag {flag!r} has no rollout in environment {self._managed.environment!r}",
                details={"flag": flag, "environment": self._managed.environment},
            )
        return max(plans, key=lambda plan: (plan.created_at, plan.name))

    def _forgot(self, call: str) -> None:
        self._managed.forgot("RolloutManager", call, _LOGGER)


def _status(record: PlanRecord) -> RolloutStatus:
    state = record.state
    stages = len(state.plan.stages)
    return RolloutStatus(
        flag=state.plan.flag,
        plan=record.name,
        phase=state.phase,
        current_percentage=state.exposure.percent,
        error=state.message if state.phase in _STOPPED else None,
        stage=state.stage + 1 if state.stage < stages else None,
        stages=stages,
        holdback_percentage=state.exposure.holdback_percent,
    )


def _free_name(flag: str, strategy: str, taken: Sequence[str]) -> str:
    number = 1
    while f"{flag}.{strategy}.{number}" in taken:
        number += 1
    return f"{flag}.{strategy}.{number}"


def _import_path(function: Callable[[float], object]) -> str:
    """``module:qualname`` of a function the controller can import, or ``ValidationError``."""
    module = getattr(function, "__module__", None)
    name = getattr(function, "__qualname__", None)
    found: object = None
    if module and name and "<" not in name:
        try:
            found = importlib.import_module(module)
            for part in name.split("."):
                found = getattr(found, part)
        except (ImportError, AttributeError):
            found = None
    if found is not function:
        raise ValidationError(
            f"validation_func {function!r} cannot be imported by name: give a module-level"
            " function (the controller calls it as `module:function`), not a lambda or a"
            " closure",
            details={"field": "validation_func"},
        )
    return f"{module}:{name}"
