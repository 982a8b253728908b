"""Seeded Monte-Carlo check of the guardrail sequence (STATS.md sections 5 and 6).

Each rollout ramps through 4 stages (1%, 5%, 25%, 50%) of 100,000 users each at 100% exposure,
looked at 5 times per stage (20,000 users per look; 200 looks in one scenario), with an
equal-size concurrent holdback; every user is new and has one per-unit value: an error (0/1)
or a lognormal latency with mean 200 ms. At every look the production ``sequential_guard``
(alpha 0.05, N* = 12,000, worse = higher) judges the cumulative arms; a fail is absorbing. The
naive rules (a fixed one- or two-sided z-test at every look, same minimums) are the baseline
they are compared with, computed with numpy on the same sums. Latency scenarios that differ
only in the treatment's effect share one set of draws, scaled (common random numbers).

Usage: ``python benchmarks/stats_aa.py [--rollouts R] [--seed S]``.
"""

from __future__ import annotations

import argparse
import functools
import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy import stats as distributions

from rheostat.stats import GuardStatus, ProportionStats, SampleStats, sequential_guard

STAGES = (0.01, 0.05, 0.25, 0.50)
USERS_PER_STAGE = 100_000  # at 100% exposure
ALPHA = 0.05
N_STAR = 12_000  # both arms at the end of stage 2: 2 * (1,000 + 5,000)
MIN_N = 100
MIN_EVENTS = 10
LATENCY_MEAN_MS = 200.0
_CHUNK_VALUES = 4_000_000  # lognormal draws held in memory at once


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """One row of the simulation table.

    Attributes:
        name: the row's label.
        metric: ``errors`` (per-user 0/1) or ``latency`` (per-user lognormal, mean 200 ms).
        level: the error rate, or the lognormal sigma of latency.
        effect: the treatment's multiplier on the error rate or on latency (1 = A/A).
        looks_per_stage: looks per ramp stage.
        control: ``holdback`` (equal size, concurrent) or ``everyone_else`` (the 1 - f rest).
        drift: both arms' multiplier on the rate or latency in the 25% and 50% stages.
    """

    name: str
    metric: Literal["errors", "latency"]
    level: float
    effect: float = 1.0
    looks_per_stage: int = 5
    control: Literal["holdback", "everyone_else"] = "holdback"
    drift: float = 1.0

    @property
    def is_null(self) -> bool:
        """Whether the treatment is healthy (A/A): every fail is a false rollback."""
        return self.effect == 1.0

    @property
    def has_holdback(self) -> bool:
        """Whether the design is the one the plan compiler accepts."""
        return self.control == "holdback"


NULL_SCENARIOS = (
    Scenario(name="A/A error rate 2%, 20 looks", metric="errors", level=0.02),
    Scenario(name="A/A latency sigma=1, 20 looks", metric="latency", level=1.0),
    Scenario(name="A/A heavy-tail latency sigma=2", metric="latency", level=2.0),
    Scenario(name="A/A rare errors 0.2%", metric="errors", level=0.002),
    Scenario(name="A/A error rate 2%, 200 looks", metric="errors", level=0.02, looks_per_stage=50),
    Scenario(name="A/A drift x1.5, holdback", metric="errors", level=0.02, drift=1.5),
    Scenario(
        name="A/A drift x1.5, everyone else",
        metric="errors",
        level=0.02,
        drift=1.5,
        control="everyone_else",
    ),
)
DETECTION_SCENARIOS = (
    Scenario(name="errors x2 (2% -> 4%) [T2]", metric="errors", level=0.02, effect=2.0),
    Scenario(name="latency +20% [T2]", metric="latency", level=1.0, effect=1.2),
    Scenario(name="errors +20%", metric="errors", level=0.02, effect=1.2),
    Scenario(name="latency +3%", metric="latency", level=1.0, effect=1.03),
    Scenario(name="errors +10%", metric="errors", level=0.02, effect=1.1),
    Scenario(name="latency +1.5%", metric="latency", level=1.0, effect=1.015),
)
T2_SCENARIOS = DETECTION_SCENARIOS[:2]


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """Rates over the simulated rollouts of one scenario.

    Attributes:
        scenario: what was simulated.
        rollouts: how many rollouts.
        naive_one_sided: share flagged by a fixed one-sided z-test at some look.
        naive_two_sided: share flagged by a fixed two-sided z-test at some look.
        sequential: share failed by ``sequential_guard`` at some look.
        by_second_stage: share failed by ``sequential_guard`` by the end of the 5% stage.
        mean_treatment_units_at_flag: mean treatment units at the sequence's fail (or None).
    """

    scenario: Scenario
    rollouts: int
    naive_one_sided: float
    naive_two_sided: float
    sequential: float
    by_second_stage: float
    mean_treatment_units_at_flag: float | None


@dataclass
class _Arm:
    """Cumulative sums of one arm across all rollouts (vectors of length R)."""

    rollouts: int
    n: np.ndarray = field(init=False)
    total: np.ndarray = field(init=False)
    squares: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.n = np.zeros(self.rollouts, dtype=np.int64)
        self.total = np.zeros(self.rollouts)
        self.squares = np.zeros(self.rollouts)

    def add(self, n: int, total: np.ndarray, squares: np.ndarray) -> None:
        self.n += n
        self.total += total
        self.squares += squares

    def summaries(self, metric: str) -> list[SampleStats] | list[ProportionStats]:
        """Every rollout's arm as the production sufficient statistics."""
        counts = self.n.tolist()
        if metric == "errors":
            return [
                ProportionStats(n, int(events))
                for n, events in zip(counts, self.total.tolist(), strict=True)
            ]
        return [
            SampleStats(n, total, squares)
            for n, total, squares in zip(
                counts, self.total.tolist(), self.squares.tolist(), strict=True
            )
        ]


Sums = tuple[np.ndarray, np.ndarray]  # per rollout: sum and sum of squares of one look's users


def _lognormal_sums(rng: np.random.Generator, *, sigma: float, n: int, rollouts: int) -> Sums:
    """Sum and sum of squares of ``n`` new users' latencies (mean 200 ms), for every rollout."""
    mu = math.log(LATENCY_MEAN_MS) - sigma * sigma / 2.0
    total, squares = np.empty(rollouts), np.empty(rollouts)
    rows = max(1, _CHUNK_VALUES // max(n, 1))
    for start in range(0, rollouts, rows):
        stop = min(rollouts, start + rows)
        values = rng.standard_normal((stop - start, n), dtype=np.float32)
        values *= np.float32(sigma)
        values += np.float32(mu)
        np.exp(values, out=values)
        total[start:stop] = values.sum(axis=1, dtype=np.float64)
        np.square(values, out=values)
        squares[start:stop] = values.sum(axis=1, dtype=np.float64)
    total.setflags(write=False)
    squares.setflags(write=False)
    return total, squares


@functools.lru_cache(maxsize=4)
def _latency_looks(
    sigma: float, looks_per_stage: int, *, rollouts: int, seed: int
) -> tuple[tuple[Sums, Sums], ...]:
    """Every look's (control, treatment) latency sums at 200 ms, for a holdback design.

    Latency scenarios that differ only in effect or drift scale these same draws (a latency
    times m is lognormal with mean 200 m and the same sigma): common random numbers, drawn once.
    """
    rng = np.random.default_rng([seed, round(sigma * 1000), looks_per_stage])
    looks = []
    for fraction in STAGES:
        n = round(fraction * USERS_PER_STAGE / looks_per_stage)
        for _ in range(looks_per_stage):
            control = _lognormal_sums(rng, sigma=sigma, n=n, rollouts=rollouts)
            looks.append((control, _lognormal_sums(rng, sigma=sigma, n=n, rollouts=rollouts)))
    return tuple(looks)


def _scaled(sums: Sums, multiplier: float) -> Sums:
    return sums[0] * multiplier, sums[1] * (multiplier * multiplier)


def _error_sums(rng: np.random.Generator, *, rate: float, n: int, rollouts: int) -> Sums:
    events = rng.binomial(n, rate, size=rollouts).astype(np.float64)
    return events, events


def _look_increments(
    scenario: Scenario, *, rollouts: int, seed: int
) -> Iterator[tuple[int, tuple[int, Sums], tuple[int, Sums]]]:
    """Per look: the stage and each arm's new users (count and sums)."""
    rng = np.random.default_rng([seed, *scenario.name.encode()])
    latency = scenario.metric == "latency"
    if latency and not scenario.has_holdback:
        raise ValueError("latency scenarios are simulated with an equal-size holdback only")
    cached = (
        _latency_looks(scenario.level, scenario.looks_per_stage, rollouts=rollouts, seed=seed)
        if latency
        else ()
    )
    look = 0
    for stage, fraction in enumerate(STAGES):
        drift = scenario.drift if stage >= 2 else 1.0  # the 25% and 50% stages
        n_c, n_t = _look_sizes(scenario, fraction)
        for _ in range(scenario.looks_per_stage):
            if latency:
                control_sums = _scaled(cached[look][0], drift)
                treatment_sums = _scaled(cached[look][1], drift * scenario.effect)
            else:
                rate = scenario.level * drift
                control_sums = _error_sums(rng, rate=rate, n=n_c, rollouts=rollouts)
                treatment_sums = _error_sums(
                    rng, rate=rate * scenario.effect, n=n_t, rollouts=rollouts
                )
            look += 1
            yield stage, (n_c, control_sums), (n_t, treatment_sums)


def _naive_z(control: _Arm, treatment: _Arm, metric: str) -> np.ndarray:
    """The fixed-horizon z of each rollout (0 where a minimum is not met)."""
    n_c, n_t = control.n.astype(np.float64), treatment.n.astype(np.float64)
    m_c, m_t = control.total / n_c, treatment.total / n_t
    if metric == "errors":
        v_c, v_t = m_c * (1 - m_c) / n_c, m_t * (1 - m_t) / n_t
        events = control.total + treatment.total
        eligible = np.minimum(events, n_c + n_t - events) >= MIN_EVENTS
    else:
        v_c = (control.squares - control.total * m_c) / (n_c - 1) / n_c
        v_t = (treatment.squares - treatment.total * m_t) / (n_t - 1) / n_t
        eligible = np.ones_like(n_c, dtype=bool)
    se = np.sqrt(np.maximum(v_c + v_t, 0.0))
    eligible &= (np.minimum(n_c, n_t) >= MIN_N) & (se > 0)
    return np.where(eligible, (m_t - m_c) / np.where(se > 0, se, 1.0), 0.0)


def _look_sizes(scenario: Scenario, fraction: float) -> tuple[int, int]:
    per_look = USERS_PER_STAGE // scenario.looks_per_stage
    treatment = round(fraction * per_look)
    control = treatment if scenario.has_holdback else round((1 - fraction) * per_look)
    return control, treatment


def simulate(scenario: Scenario, *, rollouts: int, seed: int) -> Outcome:
    """Run ``rollouts`` seeded rollouts of one scenario; the guard verdicts are production's."""
    control, treatment = _Arm(rollouts), _Arm(rollouts)
    z_one, z_two = distributions.norm.isf(ALPHA), distributions.norm.isf(ALPHA / 2)
    naive_one = np.zeros(rollouts, dtype=bool)
    naive_two = np.zeros(rollouts, dtype=bool)
    flagged_stage = np.full(rollouts, -1)
    flagged_units = np.zeros(rollouts, dtype=np.int64)
    for stage, (n_c, control_sums), (n_t, treatment_sums) in _look_increments(
        scenario, rollouts=rollouts, seed=seed
    ):
        control.add(n_c, *control_sums)
        treatment.add(n_t, *treatment_sums)
        z = _naive_z(control, treatment, scenario.metric)
        naive_one |= z > z_one
        naive_two |= np.abs(z) > z_two
        controls = control.summaries(scenario.metric)
        treatments = treatment.summaries(scenario.metric)
        for index in np.flatnonzero(flagged_stage < 0).tolist():
            verdict = sequential_guard(
                controls[index],
                treatments[index],
                worse="higher",
                alpha=ALPHA,
                n_star=N_STAR,
                min_n=MIN_N,
                min_events=MIN_EVENTS,
            )
            if verdict.status is GuardStatus.FAIL:
                flagged_stage[index] = stage
                flagged_units[index] = treatment.n[index]
    flagged = flagged_stage >= 0
    units_at_flag = float(flagged_units[flagged].mean()) if flagged.any() else None
    return Outcome(
        scenario=scenario,
        rollouts=rollouts,
        naive_one_sided=float(naive_one.mean()),
        naive_two_sided=float(naive_two.mean()),
        sequential=float(flagged.mean()),
        by_second_stage=float(((flagged_stage >= 0) & (flagged_stage <= 1)).mean()),
        mean_treatment_units_at_flag=units_at_flag,
    )


def false_rollback_limit(rollouts: int, alpha: float = ALPHA) -> float:
    """STATS.md 6: the sequence's A/A rate may exceed alpha by 3 Monte-Carlo SEs at most."""
    return alpha + 3.0 * math.sqrt(alpha * (1.0 - alpha) / rollouts)


def format_table(outcomes: Sequence[Outcome]) -> str:
    """The results as a fixed-width text table."""
    header = (
        f"{'scenario':<34} {'naive 1-sided':>13} {'naive 2-sided':>13} "
        f"{'sequential':>10} {'by 5% stage':>11} {'T units at flag':>15}"
    )
    lines = [header, "-" * len(header)]
    for outcome in outcomes:
        units = outcome.mean_treatment_units_at_flag
        lines.append(
            f"{outcome.scenario.name:<34} {outcome.naive_one_sided:>13.1%} "
            f"{outcome.naive_two_sided:>13.1%} {outcome.sequential:>10.1%} "
            f"{outcome.by_second_stage:>11.1%} {'-' if units is None else f'{units:,.0f}':>15}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Run every scenario and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rollouts", type=int, default=1000, help="rollouts per scenario")
    parser.add_argument("--seed", type=int, default=20240601, help="base random seed")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    outcomes = [
        simulate(scenario, rollouts=args.rollouts, seed=args.seed)
        for scenario in (*NULL_SCENARIOS, *DETECTION_SCENARIOS)
    ]
    print(format_table(outcomes))
    print(
        f"\nR = {args.rollouts} rollouts per scenario, seed {args.seed}, alpha {ALPHA}, "
        f"N* = {N_STAR:,}; A/A limit alpha + 3 SE = {false_rollback_limit(args.rollouts):.1%}; "
        f"{time.perf_counter() - started:.1f} s"
    )


if __name__ == "__main__":
    main()
