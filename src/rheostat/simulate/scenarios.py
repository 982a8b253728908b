"""What a simulation feeds the plan: the metrics' models, the traffic, and the regression.

A metric is a proportion (errors: each request fails or not) or a mean (latency: each request
takes some time). A scenario says what the change does to the treatment arm from a stage on:

* ``healthy``: the change is slightly better (worse-direction metrics 5 % better);
* ``aa``: the change does nothing (an A/A test: every rollback is a false alarm);
* ``errors``: proportion metrics get ``effect`` times worse (default 2x);
* ``latency``: mean metrics get ``effect`` times worse (default 1.5x);
* ``creep``: every metric gets worse slowly, reaching ``effect`` after ``creep`` (default 4 h);
* ``srm``: assignment is broken: the holdback arm loses 10 % of its users.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

import numpy as np

from rheostat.errors import ValidationError
from rheostat.metrics import QuantileSketch, WindowKind, WindowTotals
from rheostat.metrics.sketch import MAX_INDEX, MIN_INDEX, MIN_VALUE, RELATIVE_ACCURACY
from rheostat.rollout import HoldbackGate, Plan, ThresholdGate

__all__ = [
    "SCENARIOS",
    "MetricModel",
    "Scenario",
    "ScenarioKind",
    "Traffic",
    "metric_models",
    "parse_metric_model",
]


class ScenarioKind(StrEnum):
    """What the change does (see the module's docstring)."""

    HEALTHY = "healthy"
    AA = "aa"
    ERRORS = "errors"
    LATENCY = "latency"
    CREEP = "creep"
    SRM = "srm"


SCENARIOS = tuple(kind.value for kind in ScenarioKind)
_DEFAULT_EFFECT = {ScenarioKind.ERRORS: 2.0, ScenarioKind.LATENCY: 1.5, ScenarioKind.CREEP: 2.0}
_HEALTHY_GAIN = 0.95
_SRM_LOSS = 0.9
_LOG_GAMMA = float(np.log((1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)))  # the sketch's bins


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    """A scenario and where it starts.

    Attributes:
        kind: what the change does.
        at_stage: the stage (0-based) from which it does it; earlier stages are healthy.
        effect: how much worse (a factor), for ``errors``, ``latency`` and ``creep``.
        creep: how long ``creep`` takes to reach ``effect``.
    """

    kind: ScenarioKind
    at_stage: int = 0
    effect: float | None = None
    creep: timedelta = timedelta(hours=4)

    @property
    def factor(self) -> float:
        """The scenario's effect, or its default."""
        return self.effect if self.effect is not None else _DEFAULT_EFFECT.get(self.kind, 1.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricModel:
    """How a metric behaves without the change.

    Attributes:
        kind: a proportion (``mean`` is the rate) or a mean (with its standard deviation).
        worse: ``higher`` or ``lower``: the direction a regression moves it.
    """

    name: str
    kind: WindowKind
    mean: float
    sd: float = 0.0
    worse: str = "higher"


@dataclass(frozen=True, slots=True, kw_only=True)
class Traffic:
    """Requests per look at 100 % exposure, and the look interval (one metric window)."""

    per_look: int = 20_000
    interval: timedelta = timedelta(minutes=1)


_MEAN_NAME = re.compile(r"latency|duration|_ms$|_seconds$|time|p\d\d", re.IGNORECASE)
_MODEL = re.compile(r"^(?P<name>[^=]+)=(?P<kind>proportion|mean):(?P<mean>[^:]+)(?::(?P<sd>.+))?$")


def metric_models(
    plan: Plan, overrides: Mapping[str, MetricModel] | None = None
) -> dict[str, MetricModel]:
    """A model for every metric the plan's gates read: ``overrides`` first, else guessed from
    the name (``latency``, ``duration``, ``*_ms``... are means of 200 ± 80; the rest are
    proportions of 1 %), in the direction the gate calls worse."""
    chosen = dict(overrides or {})
    for gate in plan.gates:
        if not isinstance(gate, HoldbackGate | ThresholdGate) or gate.metric in chosen:
            continue
        worse = gate.worse if isinstance(gate, HoldbackGate) else _threshold_worse(gate)
        if _MEAN_NAME.search(gate.metric):
            chosen[gate.metric] = MetricModel(
                name=gate.metric, kind=WindowKind.MEAN, mean=200.0, sd=80.0, worse=worse
            )
        else:
            chosen[gate.metric] = MetricModel(
                name=gate.metric, kind=WindowKind.PROPORTION, mean=0.01, worse=worse
            )
    return chosen


def _threshold_worse(gate: ThresholdGate) -> str:
    return "lower" if gate.min is not None and gate.max is None else "higher"


def parse_metric_model(text: str) -> MetricModel:
    """Parse ``NAME=proportion:RATE`` or ``NAME=mean:MEAN:SD`` (add ``:lower`` after it when a
    lower value is the regression). Raises ``ValidationError`` naming what is wrong."""
    worse = "higher"
    if text.endswith(":lower") or text.endswith(":higher"):
        text, _, worse = text.rpartition(":")
    match = _MODEL.match(text)
    if match is None:
        raise ValidationError(
            f"metric model {text!r}: expected NAME=proportion:RATE or NAME=mean:MEAN:SD",
            details={"metric": text},
        )
    try:
        mean = float(match["mean"])
        sd = float(match["sd"]) if match["sd"] else 0.0
    except ValueError as error:
        raise ValidationError(
            f"metric model {text!r}: {error}", details={"metric": text}
        ) from error
    kind = WindowKind(match["kind"])
    if kind is WindowKind.PROPORTION and not 0 <= mean <= 1:
        raise ValidationError(
            f"metric model {text!r}: a rate is between 0 and 1", details={"metric": text}
        )
    if kind is WindowKind.MEAN and (sd <= 0 or not np.isfinite(mean)):
        raise ValidationError(
            f"metric model {text!r}: a mean needs a positive SD", details={"metric": text}
        )
    return MetricModel(name=match["name"], kind=kind, mean=mean, sd=sd, worse=worse)


def treatment_model(
    model: MetricModel, scenario: Scenario, *, stage: int, elapsed: timedelta
) -> MetricModel:
    """The metric as the treatment arm sees it in ``stage``, ``elapsed`` after the scenario
    began (``elapsed`` matters to ``creep`` only)."""
    if stage < scenario.at_stage:
        return model
    factor = _factor(model, scenario, elapsed)
    if factor == 1.0:
        return model
    worse = factor if model.worse == "higher" else 1 / factor
    mean = model.mean * worse
    if model.kind is WindowKind.PROPORTION:
        mean = min(mean, 1.0)
    return MetricModel(name=model.name, kind=model.kind, mean=mean, sd=model.sd, worse=model.worse)


def _factor(model: MetricModel, scenario: Scenario, elapsed: timedelta) -> float:
    kind = scenario.kind
    if kind is ScenarioKind.HEALTHY:
        return _HEALTHY_GAIN
    if kind is ScenarioKind.ERRORS and model.kind is WindowKind.PROPORTION:
        return scenario.factor
    if kind is ScenarioKind.LATENCY and model.kind is WindowKind.MEAN:
        return scenario.factor
    if kind is ScenarioKind.CREEP:
        share = min(1.0, elapsed / scenario.creep) if scenario.creep > timedelta(0) else 1.0
        return 1.0 + (scenario.factor - 1.0) * share
    return 1.0


def arm_units(scenario: Scenario, arm: str, stage: int) -> float:
    """The share of an arm's expected users that reach it (below 1 only for ``srm``)."""
    broken = scenario.kind is ScenarioKind.SRM and stage >= scenario.at_stage
    return _SRM_LOSS if broken and arm == "holdback" else 1.0


def draw_window(
    model: MetricModel, n: int, rng: np.random.Generator, *, sketch: bool = False
) -> WindowTotals:
    """One window of ``n`` requests: its sufficient statistics, drawn as the SDKs would sum
    them (a binomial count; a normal sample's mean and variance). With ``sketch`` a mean
    window draws its ``n`` values, for the quantile sketch a ``quantile`` gate reads."""
    if n <= 0:
        return WindowTotals(kind=model.kind)
    if model.kind is WindowKind.PROPORTION:
        successes = int(rng.binomial(n, model.mean))
        return WindowTotals(
            kind=model.kind, n=n, sum=float(successes), sum_squares=float(successes)
        )
    if sketch:
        values = rng.normal(model.mean, model.sd, n)
        return WindowTotals(
            kind=model.kind,
            n=n,
            sum=float(values.sum()),
            sum_squares=float(np.square(values).sum()),
            sketch=_sketch_of(values),
        )
    mean = float(rng.normal(model.mean, model.sd / np.sqrt(n)))
    variance = model.sd**2 * float(rng.chisquare(n - 1)) / (n - 1) if n > 1 else 0.0
    total = n * mean
    return WindowTotals(
        kind=model.kind, n=n, sum=total, sum_squares=(n - 1) * variance + n * mean * mean
    )


def _sketch_of(values: np.ndarray) -> QuantileSketch:
    """``QuantileSketch.of(values)``, with numpy's speed (a window holds thousands)."""
    magnitudes = np.abs(values)
    counted = magnitudes >= MIN_VALUE
    bins = np.clip(
        np.ceil(np.log(np.where(counted, magnitudes, 1.0)) / _LOG_GAMMA), MIN_INDEX, MAX_INDEX
    )

    def store(chosen: np.ndarray) -> dict[int, int]:
        found, counts = np.unique(bins[chosen & counted], return_counts=True)
        return {int(index): int(count) for index, count in zip(found, counts, strict=True)}

    return QuantileSketch(
        positive=store(values > 0), negative=store(values < 0), zeros=int((~counted).sum())
    )
