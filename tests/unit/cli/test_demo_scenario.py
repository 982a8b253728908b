"""The demo's story, its traffic and its clock, checked without a database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from rheostat import FlagSet
from rheostat.cli.demo_clock import FastClock
from rheostat.cli.demo_scenario import (
    ENVIRONMENTS,
    FLAGS,
    KILL_SWITCH,
    RELEASES,
    SEGMENTS,
    Release,
)
from rheostat.cli.demo_traffic import traffic_windows
from rheostat.clock import FixedClock
from rheostat.metrics import WindowKind
from rheostat.rollout import HoldbackGate, RampStage
from rheostat.rollout.state import Exposure, Phase, PlanState
from rheostat.simulate import Traffic, simulate_run

START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("environment", list(ENVIRONMENTS))
def test_every_flag_of_the_story_is_a_valid_definition(environment: str) -> None:
    # Given the scenario's segments and flags as one document / When it is compiled
    document = {
        "version": 1,
        "segments": dict(SEGMENTS),
        "flags": {flag.key: dict(flag.definition(environment)) for flag in FLAGS},
    }
    flags = FlagSet.from_dict(document)

    # Then every flag is there, the plans' flags are dark in production and on in staging
    assert len(FLAGS) >= 12
    assert {flag.key for flag in FLAGS} == set(document["flags"])
    for release in RELEASES:
        expected = environment != "production"
        assert flags.is_enabled(release.plan.flag, "user-1") is expected


def test_the_kill_switch_and_the_releases_name_flags_of_the_story() -> None:
    # Given / When / Then
    keys = {flag.key for flag in FLAGS}
    assert KILL_SWITCH[0] in keys
    assert {release.plan.flag for release in RELEASES} <= keys
    assert {release.expected for release in RELEASES} == {Phase.COMPLETED, Phase.ROLLED_BACK}


@pytest.mark.parametrize("release", RELEASES, ids=lambda r: r.plan.name)
def test_traffic_covers_every_gate_metric_and_the_canary_holds_back(release: Release) -> None:
    # Given a release's plan / When its gates and stages are read
    plan = release.plan
    gated = {gate.metric for gate in plan.gates if isinstance(gate, HoldbackGate)}
    ramps = [stage for stage in plan.stages if isinstance(stage, RampStage)]

    # Then a model feeds each holdback gate, and the ramps below 100 % keep a holdback
    assert gated == {model.name for model in release.models}
    assert ramps[-1].percent == 100
    assert all(stage.holdback for stage in ramps if stage.percent <= 50)


@pytest.mark.parametrize("release", RELEASES, ids=lambda r: r.plan.name)
def test_the_story_ends_as_told_whatever_the_seed(release: Release) -> None:
    # Given the release's plan, traffic and scenario, judged as the controller judges
    traffic = Traffic(per_look=release.requests_per_minute, interval=timedelta(minutes=1))
    models = {model.name: model for model in release.models}

    # When it runs with ten other seeds than the demo's
    outcomes = {
        simulate_run(
            release.plan, release.scenario, seed=seed, traffic=traffic, models=models
        ).outcome
        for seed in range(10)
    }

    # Then it ends the same way every time: the demo's story is no lucky draw
    assert outcomes == {release.expected.value}


def _state(release: Release, *, stage: int, percent: float) -> PlanState:
    exposure = Exposure(percent=percent, holdback_percent=percent)
    return PlanState(plan=release.plan, phase=Phase.BAKING, stage=stage, exposure=exposure)


def test_a_minute_of_traffic_has_a_window_per_arm_and_metric_at_the_exposure() -> None:
    # Given the regressing release at 25 % with a 25 % holdback
    release = RELEASES[1]
    state = _state(release, stage=3, percent=25)

    # When one minute of its traffic is drawn
    windows = traffic_windows(release, state, start=START, rng=np.random.default_rng(1))

    # Then each arm has each metric, sized by its share, for the flag, starting then
    arms = {(w.variant, w.metric): w for w in windows}
    assert set(arms) == {
        (arm, model.name) for arm in ("on", "holdback", "off") for model in release.models
    }
    assert {w.flag for w in windows} == {"async_reports"}
    assert {w.start for w in windows} == {START}
    errors = {arm: arms[(arm, "report_errors")] for arm in ("on", "holdback", "off")}
    assert errors["off"].n > 1.5 * errors["on"].n
    assert errors["on"].kind is WindowKind.PROPORTION


def test_the_regression_doubles_the_treatments_errors_from_its_stage_on() -> None:
    # Given the regressing release with a lot of traffic, before and at the stage it regresses
    release = replace(RELEASES[1], requests_per_minute=4_000_000)
    rates = {}
    for stage in (2, 3):
        windows = traffic_windows(
            release,
            _state(release, stage=stage, percent=25),
            start=START,
            rng=np.random.default_rng(7),
        )
        # When the error rates of treatment and holdback are read
        found = {w.variant: w for w in windows if w.metric == "report_errors"}
        rates[stage] = {
            arm: (found[arm].successes or 0) / found[arm].n for arm in ("on", "holdback")
        }

    # Then they agree before, and the treatment fails about twice as often from then on
    assert rates[2]["on"] == pytest.approx(rates[2]["holdback"], rel=0.05)
    assert rates[3]["on"] == pytest.approx(2 * rates[3]["holdback"], rel=0.05)


def test_the_same_seed_draws_the_same_traffic() -> None:
    # Given one state / When two runs draw with the same seed, and one with another
    state = _state(RELEASES[0], stage=2, percent=5)

    def draw(seed: int) -> list[object]:
        rng = np.random.default_rng(seed)
        return list(traffic_windows(RELEASES[0], state, start=START, rng=rng))

    # Then the same seed gives the same windows: every run of the demo tells the same story
    assert draw(3) == draw(3)
    assert draw(3) != draw(4)


def test_the_fast_clock_starts_behind_runs_ahead_and_catches_up_with_the_present() -> None:
    # Given a fast clock four hours behind a (fixed) present
    present = FixedClock(START)
    clock = FastClock(present, behind=timedelta(hours=4))
    assert clock.now() == START - timedelta(hours=4)

    # When simulated hours pass, then it catches up
    clock.advance(timedelta(hours=3))
    assert clock.now() == START - timedelta(hours=1)
    clock.catch_up()

    # Then it reads the present, moves with it, and a second catch-up never turns it back
    assert clock.now() == START
    present.advance(timedelta(seconds=5))
    assert clock.now() == START + timedelta(seconds=5)
    clock.advance(timedelta(minutes=2))
    clock.catch_up()
    assert clock.now() == START + timedelta(minutes=2, seconds=5)
