"""Back-testing a release plan before production: ``rheostat simulate``.

Drives the real ``rheostat.rollout.decide`` and the real gate judging
(``rheostat.rollout.looks``) with synthetic traffic on a fake clock, so a team can see, before
they trust a gate policy, whether it catches a regression and how often it cries wolf. Pure:
seeded randomness (numpy), no clock, database or network.
"""

from rheostat.simulate.runs import RunResult, Summary, simulate, simulate_run, summarize
from rheostat.simulate.scenarios import (
    SCENARIOS,
    MetricModel,
    Scenario,
    ScenarioKind,
    Traffic,
    metric_models,
    parse_metric_model,
)

__all__ = [
    "SCENARIOS",
    "MetricModel",
    "RunResult",
    "Scenario",
    "ScenarioKind",
    "Summary",
    "Traffic",
    "metric_models",
    "parse_metric_model",
    "simulate",
    "simulate_run",
    "summarize",
]
