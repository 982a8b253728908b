"""Stage lists for the seed strategies: ``canary``, ``linear``, ``blue_green``, ``ring``,
``percentage``.

A plan document may say ``strategy: canary`` instead of listing ``stages``; the plan then
holds the expanded stages (``plan_to_dict`` writes them out). Each template ramps to
``target_percentage``: steps above it are dropped and the last stage is the target. Every
stage bakes ``bake`` (each template has its own default, from the seeds), the last one too,
so the gates watch the target exposure before the plan completes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from rheostat.errors import InvalidDefinition
from rheostat.rollout._plan_fields import parse_keys, parse_percent, require_list
from rheostat.rollout.model import RampStage, Stage

__all__ = ["DEFAULT_RINGS", "TEMPLATES", "template"]

DEFAULT_RINGS = ("internal", "beta")
"""Seed 001's rings before everyone: internal users, then beta testers."""

_CANARY_STEPS = (1.0, 5.0, 10.0, 25.0, 50.0, 100.0)
_LINEAR_STEPS = (0.0, 10.0, 25.0, 50.0, 100.0)
_MAX_HOLDBACK_PERCENT = 50.0
_DEFAULT_BAKES = {
    "canary": timedelta(minutes=5),  # seed 001: "Monitor for 5 minutes"
    "linear": timedelta(days=7),  # seed 002: one week per step
    "blue_green": timedelta(minutes=5),
    "ring": timedelta(minutes=5),
    "percentage": timedelta(minutes=5),
}


def template(
    name: str,
    *,
    target_percentage: float | None = None,
    bake: timedelta | None = None,
    rings: Sequence[str] | None = None,
    percentages: Sequence[float] | None = None,
) -> tuple[Stage, ...]:
    """Return the stages of the strategy ``name``.

    Args:
        name: ``canary`` (1, 5, 10, 25, 50, 100 %, holding back an equal-size control group
            up to 50 %), ``linear`` (seed 002: a baseline at 0 %, then 10, 25, 50, 100 %),
            ``blue_green`` (a validation bake at 0 %, then the switch to the target),
            ``ring`` (100 % of each ring's segment in turn, then the target of everyone) or
            ``percentage`` (your own ``percentages``).
        target_percentage: where the plan ends (default 100; for ``percentage``, the last of
            ``percentages``).
        bake: each stage's bake (default 5 minutes; 7 days for ``linear``).
        rings: for ``ring``: segment keys in order (default ``internal``, ``beta``).
        percentages: for ``percentage``: the exposures, increasing.

    Raises:
        InvalidDefinition: naming the document key (``strategy``, ``target_percentage``,
            ``rings``, ``percentages[2]``) that is wrong.
    """
    build = _BUILDERS.get(name) if isinstance(name, str) else None
    if build is None:
        raise InvalidDefinition(
            "strategy", f"unknown strategy {name!r} (one of {', '.join(TEMPLATES)})"
        )
    _check_options(name, rings, percentages)
    steps = _custom_steps(percentages) if percentages is not None else ()
    if target_percentage is not None:
        target = parse_percent(target_percentage, "target_percentage")
    else:
        target = steps[-1] if steps else 100.0
    if target == 0:
        raise InvalidDefinition("target_percentage", "must be above 0")
    return build(
        _Options(
            target=target,
            bake=_DEFAULT_BAKES[name] if bake is None else bake,
            rings=DEFAULT_RINGS if rings is None else parse_keys(rings, "rings", "segment"),
            steps=steps,
        )
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Options:
    target: float
    bake: timedelta
    rings: tuple[str, ...]
    steps: tuple[float, ...]


def _check_options(
    name: str, rings: Sequence[str] | None, percentages: Sequence[float] | None
) -> None:
    if rings is not None and name != "ring":
        raise InvalidDefinition("rings", f"only for strategy ring, not {name}")
    if percentages is not None and name != "percentage":
        raise InvalidDefinition("percentages", f"only for strategy percentage, not {name}")
    if name == "percentage" and percentages is None:
        raise InvalidDefinition("percentages", "missing: strategy percentage needs its steps")


def _custom_steps(raw: Sequence[float]) -> tuple[float, ...]:
    items = require_list(raw, "percentages")
    if not items:
        raise InvalidDefinition("percentages", "name at least one percentage")
    steps = tuple(parse_percent(item, f"percentages[{i}]") for i, item in enumerate(items))
    for index in range(1, len(steps)):
        if steps[index] <= steps[index - 1]:
            raise InvalidDefinition(
                f"percentages[{index}]",
                f"must be above the step before ({steps[index - 1]:g}), got {steps[index]:g}",
            )
    return steps


def _up_to(steps: Sequence[float], target: float) -> list[float]:
    """The steps below the target, then the target."""
    return [step for step in steps if step < target] + [target]


def _canary(options: _Options) -> tuple[Stage, ...]:
    return tuple(
        RampStage(percent=percent, bake=options.bake, holdback=percent <= _MAX_HOLDBACK_PERCENT)
        for percent in _up_to(_CANARY_STEPS, options.target)
    )


def _linear(options: _Options) -> tuple[Stage, ...]:
    return _ramps(_up_to(_LINEAR_STEPS, options.target), options.bake)


def _blue_green(options: _Options) -> tuple[Stage, ...]:
    # Green is validated while blue serves everyone (the gates that need no exposure: checks,
    # probes, callables), then all traffic switches; a failure switches back (on_failure).
    return _ramps([0.0, options.target], options.bake)


def _ring(options: _Options) -> tuple[Stage, ...]:
    rings = tuple(
        RampStage(percent=100.0, bake=options.bake, segments=(segment,))
        for segment in options.rings
    )
    return (*rings, RampStage(percent=options.target, bake=options.bake))


def _percentage(options: _Options) -> tuple[Stage, ...]:
    return _ramps(_up_to(options.steps, options.target), options.bake)


def _ramps(percents: Sequence[float], bake: timedelta) -> tuple[Stage, ...]:
    return tuple(RampStage(percent=percent, bake=bake) for percent in percents)


_BUILDERS: Mapping[str, Callable[[_Options], tuple[Stage, ...]]] = {
    "blue_green": _blue_green,
    "canary": _canary,
    "linear": _linear,
    "percentage": _percentage,
    "ring": _ring,
}
TEMPLATES = tuple(_BUILDERS)
"""The strategy names ``template`` knows."""
