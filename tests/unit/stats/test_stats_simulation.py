"""Seeded Monte-Carlo A/A and detection check (STATS.md section 6), a reduced benchmark run.

Runs ``benchmarks/stats_aa.py`` at R = 300 rollouts per scenario with a fixed seed; every
verdict comes from the production ``sequential_guard``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROLLOUTS = 300
SEED = 20240601
BENCHMARK = Path(__file__).parents[3] / "benchmarks" / "stats_aa.py"


def _load_benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("stats_aa_benchmark", BENCHMARK)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def benchmark() -> ModuleType:
    return _load_benchmark()


@pytest.mark.slow
def test_healthy_rollouts_are_rolled_back_at_most_alpha_of_the_time(
    benchmark: ModuleType,
) -> None:
    # Given
    scenarios = [s for s in benchmark.NULL_SCENARIOS if s.has_holdback]
    limit = benchmark.false_rollback_limit(ROLLOUTS)

    # When
    outcomes = [benchmark.simulate(s, rollouts=ROLLOUTS, seed=SEED) for s in scenarios]

    # Then
    for outcome in outcomes:
        assert outcome.sequential <= limit, outcome
        assert outcome.naive_one_sided >= 0.15, outcome  # the harness does see inflation


@pytest.mark.slow
def test_everyone_else_as_control_rolls_back_healthy_releases_under_drift(
    benchmark: ModuleType,
) -> None:
    # Given
    (scenario,) = [s for s in benchmark.NULL_SCENARIOS if not s.has_holdback]

    # When
    outcome = benchmark.simulate(scenario, rollouts=ROLLOUTS, seed=SEED)

    # Then: the phantom regression of STATS.md section 4
    assert outcome.sequential >= 0.99


@pytest.mark.slow
def test_doubled_errors_and_slower_latency_are_caught_by_the_end_of_the_5_percent_stage(
    benchmark: ModuleType,
) -> None:
    # When
    outcomes = [benchmark.simulate(s, rollouts=ROLLOUTS, seed=SEED) for s in benchmark.T2_SCENARIOS]

    # Then
    for outcome in outcomes:
        assert outcome.by_second_stage >= 0.99, outcome
