"""The SDKs' metric windows for one simulated minute of a release: pure, from a seeded RNG.

``rheostat.simulate`` draws them (a binomial count for a rate, a normal sample's sums for a
mean) from the release's metric models, the treatment's made worse (or better) as its
scenario says, at the exposure the plan serves: the same traffic ``rheostat simulate``
back-tests a plan with.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from rheostat.cli.demo_scenario import SIMULATED_MINUTE, Release
from rheostat.metrics import MetricWindow, WindowKind, WindowTotals
from rheostat.rollout.looks import HOLDBACK, REST, TREATMENT
from rheostat.rollout.state import PlanState
from rheostat.simulate import MetricModel
from rheostat.simulate.scenarios import draw_window, treatment_model

__all__ = ["traffic_windows"]


def traffic_windows(
    release: Release, state: PlanState, *, start: datetime, rng: np.random.Generator
) -> list[MetricWindow]:
    """One simulated minute of the SDKs' windows for the plan's flag: per arm (treatment,
    holdback, everyone else) and gate metric, at the exposure the plan serves now."""
    exposure = state.exposure
    shares = {
        TREATMENT: exposure.percent,
        HOLDBACK: exposure.holdback_percent,
        REST: max(0.0, 100.0 - exposure.percent - exposure.holdback_percent),
    }
    windows = []
    for arm, share in shares.items():
        n = int(rng.poisson(release.requests_per_minute * share / 100)) if share > 0 else 0
        for model in release.models:
            arm_model = _arm_model(release, model, arm, state)
            totals = draw_window(arm_model, n, rng)
            if totals.n > 0:
                windows.append(_window(state.plan.flag, arm, model.name, totals, start))
    return windows


def _arm_model(release: Release, model: MetricModel, arm: str, state: PlanState) -> MetricModel:
    if arm != TREATMENT:
        return model
    return treatment_model(model, release.scenario, stage=state.stage, elapsed=timedelta(0))


def _window(
    flag: str, arm: str, metric: str, totals: WindowTotals, start: datetime
) -> MetricWindow:
    seconds = int(SIMULATED_MINUTE.total_seconds())
    if totals.kind is WindowKind.PROPORTION:
        return MetricWindow(
            flag=flag, variant=arm, metric=metric, start=start, seconds=seconds,
            kind=totals.kind, n=totals.n, successes=int(totals.sum),
        )  # fmt: skip
    return MetricWindow(
        flag=flag, variant=arm, metric=metric, start=start, seconds=seconds,
        kind=totals.kind, n=totals.n, sum=totals.sum, sum_squares=totals.sum_squares,
    )  # fmt: skip
