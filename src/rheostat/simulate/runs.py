"""Simulated runs of a release plan: the real ``decide`` and gate judging on a fake clock.

Each look the simulation sends one metric window per arm (treatment ``on``, ``holdback``, the
rest ``off``) drawn from the scenario, asks ``rheostat.rollout.looks.observations`` for the
gates' verdicts exactly as the controller does, and lets ``decide`` move the plan. Approvals
are given at once; HTTP, callable and check gates (which a simulation cannot run) pass and
say so. A run ends when the plan completes, is rolled back, fails or pauses.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from rheostat.metrics import WindowTotals
from rheostat.rollout import (
    BackfillStage,
    CheckStage,
    Gate,
    GateVerdict,
    MonitorStage,
    Plan,
    RampStage,
    Verdict,
    WaitUntilStage,
)
from rheostat.rollout.looks import (
    HOLDBACK,
    REST,
    TREATMENT,
    Totals,
    observations,
    sketched_metrics,
)
from rheostat.rollout.machine import decide
from rheostat.rollout.state import (
    TERMINAL_PHASES,
    Command,
    CommandKind,
    Exposure,
    Observations,
    Phase,
    PlanState,
    RecordEvent,
)
from rheostat.simulate.scenarios import (
    MetricModel,
    Scenario,
    ScenarioKind,
    Traffic,
    arm_units,
    draw_window,
    metric_models,
    treatment_model,
)

__all__ = ["RunResult", "Summary", "simulate", "simulate_run", "summarize"]

START = datetime(2026, 1, 1, tzinfo=UTC)
"""The fake clock's first instant (any will do: only differences matter)."""

_ACTOR = "simulate"
_DECISIVE = (
    "plan.rolling_back",
    "plan.rolled_back",
    "plan.paused",
    "plan.failed",
    "plan.completed",
)
_MAX_LOOKS = 50_000


@dataclass(frozen=True, slots=True, kw_only=True)
class RunResult:
    """One simulated run.

    Attributes:
        outcome: ``completed``, ``rolled_back``, ``paused``, ``failed``, or ``unfinished``
            (the look budget ran out).
        highest_percent: the highest exposure the plan reached.
        decided_look: the look (1-based) at which the plan started its rollback, paused,
            failed or completed; ``None`` if unfinished.
        decided_stage: the stage (1-based) it was in then.
        percent_at_decision: its exposure then.
        elapsed: simulated time from start to the end of the run.
        fired: gates that gave a ``fail`` verdict at least once (observe-mode ones too).
        evidence: the deciding event's message and evidence.
    """

    run: int
    seed: int
    outcome: str
    highest_percent: float
    looks: int
    decided_look: int | None
    decided_stage: int | None
    percent_at_decision: float | None
    elapsed: timedelta
    fired: tuple[str, ...] = ()
    message: str | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The run as JSON."""
        return {
            "run": self.run,
            "seed": self.seed,
            "outcome": self.outcome,
            "highest_percent": self.highest_percent,
            "looks": self.looks,
            "decided_look": self.decided_look,
            "decided_stage": self.decided_stage,
            "percent_at_decision": self.percent_at_decision,
            "elapsed_seconds": int(self.elapsed.total_seconds()),
            "fired": list(self.fired),
            "message": self.message,
            "evidence": dict(self.evidence),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    """Many runs of one scenario, summed up.

    Attributes:
        outcomes: runs per outcome.
        rollback_rate: share of runs rolled back (on ``aa`` and ``healthy``: false alarms).
        stop_rate: share rolled back, paused or failed (on regressions: detections).
        median_decided_stage / median_decided_look / median_highest_percent: over the runs
            that stopped (rolled back, paused or failed); ``None`` when none did.
        fired: per gate, the share of runs in which it gave a ``fail`` at least once.
    """

    scenario: str
    runs: int
    outcomes: Mapping[str, int]
    rollback_rate: float
    stop_rate: float
    median_decided_stage: float | None
    median_decided_look: float | None
    median_highest_percent: float | None
    fired: Mapping[str, float]

    def to_dict(self) -> dict[str, Any]:
        """The summary as JSON."""
        return {
            "scenario": self.scenario,
            "runs": self.runs,
            "outcomes": dict(self.outcomes),
            "rollback_rate": self.rollback_rate,
            "stop_rate": self.stop_rate,
            "median_decided_stage": self.median_decided_stage,
            "median_decided_look": self.median_decided_look,
            "median_highest_percent": self.median_highest_percent,
            "fired": dict(self.fired),
        }


def simulate(
    plan: Plan,
    scenario: Scenario,
    *,
    runs: int = 1,
    seed: int = 0,
    traffic: Traffic | None = None,
    models: Mapping[str, MetricModel] | None = None,
) -> list[RunResult]:
    """``runs`` independent runs; run ``i`` uses seed ``seed + i`` (each reproducible alone)."""
    return [
        simulate_run(plan, scenario, seed=seed + i, run=i + 1, traffic=traffic, models=models)
        for i in range(runs)
    ]


def simulate_run(  # keyword-only settings of one run
    plan: Plan,
    scenario: Scenario,
    *,
    seed: int = 0,
    run: int = 1,
    traffic: Traffic | None = None,
    models: Mapping[str, MetricModel] | None = None,
) -> RunResult:
    """Run the plan once against the scenario, from start to its end (or the look budget)."""
    world = _World(plan, scenario, seed, traffic or Traffic(), metric_models(plan, models))
    return world.run(run)


def summarize(scenario: str, results: Sequence[RunResult]) -> Summary:
    """Sum up runs of one scenario."""
    outcomes: dict[str, int] = {}
    for result in results:
        outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
    stopped = [r for r in results if r.outcome in ("rolled_back", "paused", "failed")]
    total = max(len(results), 1)
    gates = sorted({gate for result in results for gate in result.fired})
    return Summary(
        scenario=scenario,
        runs=len(results),
        outcomes=outcomes,
        rollback_rate=outcomes.get("rolled_back", 0) / total,
        stop_rate=len(stopped) / total,
        median_decided_stage=_median([r.decided_stage for r in stopped]),
        median_decided_look=_median([r.decided_look for r in stopped]),
        median_highest_percent=_median([r.highest_percent for r in stopped]),
        fired={gate: sum(gate in r.fired for r in results) / total for gate in gates},
    )


def _median(values: Sequence[float | int | None]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return statistics.median(present) if present else None


class _World:
    """The fake clock, the traffic and the plan's state during one run."""

    def __init__(
        self,
        plan: Plan,
        scenario: Scenario,
        seed: int,
        traffic: Traffic,
        models: Mapping[str, MetricModel],
    ) -> None:
        self.plan = plan
        self.scenario = scenario
        self.seed = seed
        self.traffic = traffic
        self.models = models
        self.rng = np.random.default_rng(seed)
        self.now = START
        self.windows: dict[tuple[str, str], WindowTotals] = {}
        self.since: datetime | None = None
        self.regression_began: datetime | None = None
        self.sketched = sketched_metrics(plan)

    def run(self, number: int) -> RunResult:
        start = Command(kind=CommandKind.START, actor=_ACTOR)
        state = decide(
            PlanState(plan=self.plan), Observations(commands=(start,), looked=False), self.now
        ).state
        highest = state.exposure.percent
        fired: set[str] = set()
        decided: tuple[int, PlanState, RecordEvent] | None = None
        looks = 0
        for looks in range(1, _budget(self.plan, self.traffic) + 1):  # read after
            self._skip_waits(state)
            self._send_traffic(state)
            self.now += self.traffic.interval
            seen = observations(
                state,
                self.now,
                totals_of=self._totals,
                judge=_not_simulated,
                stage_outcome=_stage_outcome(state),
            )
            fired.update(v.gate for v in seen.verdicts if v.verdict is Verdict.FAIL)
            if state.phase is Phase.AWAITING_APPROVAL:
                seen = replace(seen, commands=(Command(kind=CommandKind.APPROVE, actor=_ACTOR),))
            decision = decide(state, seen, self.now)
            if decided is None:
                event = next(
                    (
                        a
                        for a in decision.actions
                        if isinstance(a, RecordEvent) and a.type in _DECISIVE
                    ),
                    None,
                )
                if event is not None:
                    decided = (looks, state, event)
            state = decision.state
            highest = max(highest, state.exposure.percent)
            if state.phase in TERMINAL_PHASES or state.phase is Phase.PAUSED:
                break
        return self._result(number, state, highest, looks, decided, fired)

    def _result(
        self,
        number: int,
        state: PlanState,
        highest: float,
        looks: int,
        decided: tuple[int, PlanState, RecordEvent] | None,
        fired: set[str],
    ) -> RunResult:
        finished = state.phase in TERMINAL_PHASES or state.phase is Phase.PAUSED
        return RunResult(
            run=number,
            seed=self.seed,
            outcome=state.phase.value if finished else "unfinished",
            highest_percent=highest,
            looks=looks,
            decided_look=None if decided is None else decided[0],
            decided_stage=None if decided is None else decided[1].stage + 1,
            percent_at_decision=None if decided is None else decided[1].exposure.percent,
            elapsed=self.now - START,
            fired=tuple(sorted(fired)),
            message=None if decided is None else decided[2].message,
            evidence={} if decided is None else dict(decided[2].evidence),
        )

    def _skip_waits(self, state: PlanState) -> None:
        """A ``wait_until`` stage: the fake clock jumps to its moment."""
        stages = self.plan.stages
        if state.stage < len(stages):
            stage = stages[state.stage]
            if isinstance(stage, WaitUntilStage) and stage.at > self.now:
                self.now = stage.at

    def _send_traffic(self, state: PlanState) -> None:
        """One window per arm and metric for the interval that starts now, at the exposure
        in force; windows before the current stage began are not looked at again."""
        if state.stage_started_at != self.since:
            self.since = state.stage_started_at
            self.windows = {}
        if self.regression_began is None and state.stage >= self.scenario.at_stage:
            self.regression_began = self.now
        exposure = state.exposure
        for arm, share in _arms(exposure).items():
            expected = (
                self.traffic.per_look * share / 100 * arm_units(self.scenario, arm, state.stage)
            )
            n = int(self.rng.poisson(expected)) if expected > 0 else 0
            for name, model in self.models.items():
                drawn = self._model_for(model, arm, state)
                window = draw_window(drawn, n, self.rng, sketch=name in self.sketched)
                key = (name, arm)
                self.windows[key] = self.windows[key] + window if key in self.windows else window

    def _model_for(self, model: MetricModel, arm: str, state: PlanState) -> MetricModel:
        if arm != TREATMENT or self.scenario.kind is ScenarioKind.SRM:
            return model
        elapsed = self.now - (self.regression_began or self.now)
        return treatment_model(model, self.scenario, stage=state.stage, elapsed=elapsed)

    def _totals(self, metric: str) -> Totals:
        return {
            (arm, totals.kind): totals
            for (name, arm), totals in self.windows.items()
            if name == metric and totals.n > 0
        }


def _arms(exposure: Exposure) -> dict[str, float]:
    rest = max(0.0, 100.0 - exposure.percent - exposure.holdback_percent)
    return {TREATMENT: exposure.percent, HOLDBACK: exposure.holdback_percent, REST: rest}


def _commands(*commands: Command) -> Any:
    from rheostat.rollout.state import Observations  # one use

    return Observations(commands=commands, looked=False)


def _not_simulated(gate: Gate) -> GateVerdict:
    return GateVerdict(
        gate=gate.name,
        verdict=Verdict.PASS,
        message="not simulated: only metric gates are (HTTP, callables and checks pass)",
        evidence={"simulated": False},
    )


def _stage_outcome(state: PlanState) -> GateVerdict | None:
    stages = state.plan.stages
    if state.stage >= len(stages) or not isinstance(
        stages[state.stage], CheckStage | BackfillStage
    ):
        return None
    return GateVerdict(
        gate="stage",
        verdict=Verdict.PASS,
        message="not simulated: check and backfill stages pass",
        evidence={"simulated": False},
    )


def _budget(plan: Plan, traffic: Traffic) -> int:
    """Enough looks for the plan's bakes, monitors, deadlines and a gradual rollback."""
    total = timedelta(days=1) + plan.limits.inconclusive_timeout * len(plan.stages)
    total += plan.gradual_bake * len(plan.gradual_steps)
    for stage in plan.stages:
        if isinstance(stage, RampStage):
            total += stage.bake
        elif isinstance(stage, MonitorStage):
            total += stage.duration
    return min(_MAX_LOOKS, int(total / traffic.interval) + 1)
