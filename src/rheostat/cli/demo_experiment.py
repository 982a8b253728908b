"""The demo's A/B test with simulated traffic, analysed honestly.

Traffic is simulated (seeded, so every run prints the same numbers) on the demo's clock, which
then moves on two minutes, because results only count metric windows that have ended.
"""

from __future__ import annotations

import random
from datetime import timedelta

from rheostat import service
from rheostat.cli.demo_clock import FastClock
from rheostat.cli.output import show
from rheostat.cli.render import format_note
from rheostat.cli.render_experiments import format_experiment_change, format_results
from rheostat.experiments import Arm, Experiment, MetricKind, MetricSpec

__all__ = ["EXPERIMENT", "run_experiment"]

EXPERIMENT = "search-ranking"
COMMIT = "3f9c2e1"
# Simulated truth: the new ranking is 12 ms faster and converts 1.5 points better.
LATENCY_MS = {"control": (310.0, 95.0), "treatment": (298.0, 95.0)}
CONVERSION = {"control": 0.080, "treatment": 0.095}


def run_experiment(
    store: service.SqlStore, clock: FastClock, *, environment: str, actor: str, users: int
) -> None:
    """Create, start, feed and analyse an experiment, then stop it."""
    with store.unit_of_work() as uow:
        _create_and_start(uow, environment, actor)
    with store.unit_of_work() as uow:
        _simulate_traffic(uow, environment, users)
    clock.advance(timedelta(minutes=2))  # let the last metric window end
    with store.unit_of_work() as uow:
        show(format_results(service.experiment_results(uow, environment, EXPERIMENT)))
        stopped = service.stop_experiment(
            uow,
            environment,
            EXPERIMENT,
            change=service.Change(actor=actor, reason="decided: ship the new ranking"),
        )
    show(format_experiment_change("stopped", stopped))


def _create_and_start(uow: service.UnitOfWork, environment: str, actor: str) -> None:
    experiment = Experiment(
        key=EXPERIMENT,
        description="New search ranking against the current one",
        arms=(Arm(name="control", weight_percent=50), Arm(name="treatment", weight_percent=50)),
        metrics=(
            MetricSpec(name="latency_ms", higher_is_better=False),
            MetricSpec(name="purchased", kind=MetricKind.PROPORTION),
        ),
    )
    service.create_experiment(
        uow, environment, experiment, change=service.Change(actor=actor, reason="Q3 plan")
    )
    started = service.start_experiment(
        uow, environment, EXPERIMENT, change=service.Change(actor=actor)
    )
    show(format_experiment_change("started", started))


def _simulate_traffic(uow: service.UnitOfWork, environment: str, users: int) -> None:
    draw = random.Random(20261124)  # noqa: S311  # simulated traffic, not security
    exposures = [service.Exposure(unit=f"user-{n}", commit_sha=COMMIT) for n in range(users)]
    receipt = service.record_exposures(uow, environment, EXPERIMENT, exposures)
    arms = {a.unit: a.arm for a in receipt.assignments if a.arm is not None}
    events = [
        service.MetricEvent(arm=arm, metric="latency_ms", value=draw.gauss(*LATENCY_MS[arm]))
        for arm in arms.values()
    ]
    service.record_metrics(uow, environment, EXPERIMENT, events)
    conversions = [
        service.Conversion(unit=unit, metric="purchased")
        for unit, arm in arms.items()
        if draw.random() < CONVERSION[arm]
    ]
    service.record_conversions(uow, environment, EXPERIMENT, conversions)
    again = service.record_exposures(uow, environment, EXPERIMENT, exposures[:100])
    counts = f"{receipt.recorded:,} exposures, {len(events):,} latencies, {len(conversions):,} buys"
    show(format_note(f"   {counts}, kept as sufficient statistics per arm and minute"))
    retried = f"{again.recorded} recorded, {again.duplicates} recognised as duplicates"
    show(format_note(f"   the first 100 exposures sent again: {retried}"))
