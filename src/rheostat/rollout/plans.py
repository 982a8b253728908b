"""Release plan documents (YAML or JSON) into ``Plan`` values, and the canonical document back.

A document is validated whole before anything runs: every problem is an ``InvalidDefinition``
whose ``path`` names the field (``stages[2].ramp.percent``, ``gates[0].mode``). Unknown keys
are refused (a typo would otherwise be silently ignored), and so are values of the wrong type
(``"50"`` is not a percent, ``true`` is not a number). The format is in ``docs/plans.md``.

``plan_to_dict`` returns the canonical document (every field written out, templates expanded):
what ``rheostat plan validate --json`` prints and what is stored, and
``plan_from_dict(plan_to_dict(plan)) == plan``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import fields
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from rheostat.errors import InvalidDefinition
from rheostat.flags.engine import read_document
from rheostat.inputs import find_lone_surrogate
from rheostat.rollout._plan_fields import (
    check_fields,
    format_duration,
    format_percent,
    parse_choice,
    parse_count,
    parse_duration,
    parse_key,
    parse_percent,
    require_list,
    require_mapping,
)
from rheostat.rollout._plan_gates import dump_gate, parse_gates
from rheostat.rollout._plan_stages import check_ramp_order, dump_stage, parse_stages
from rheostat.rollout.model import (
    GateLimits,
    InconclusivePolicy,
    NoDataPolicy,
    OnFailure,
    Plan,
    Stage,
)
from rheostat.rollout.templates import template

__all__ = ["load_plan", "plan_from_dict", "plan_from_text", "plan_to_dict"]

_PLAN_FIELDS = {"plan", "flag", "environment", "stages", "gates", "on_failure", "limits"}
_STRATEGY_FIELDS = {"strategy", "target_percentage", "bake", "rings", "percentages"}
_ON_FAILURE_FIELDS = {"rollback", "steps", "bake"}
_LIMIT_FIELDS = {
    "failure_limit",
    "error_limit",
    "inconclusive_timeout",
    "inconclusive_policy",
    "no_data_grace",
    "no_data_policy",
    "stale_after",
}
_DEFAULT_LIMITS = GateLimits()
_PLAN_DEFAULTS: dict[str, Any] = {field.name: field.default for field in fields(Plan)}
_DEFAULT_STEPS: tuple[float, ...] = _PLAN_DEFAULTS["gradual_steps"]
_DEFAULT_GRADUAL_BAKE: timedelta = _PLAN_DEFAULTS["gradual_bake"]


def load_plan(path: str | Path) -> Plan:
    """Read a plan from a YAML or JSON file (UTF-8; ``.json`` is read as JSON).

    Raises:
        InvalidDefinition: naming the file when it cannot be read, is not UTF-8 (with the
            byte offset) or does not parse; naming the field when the plan is wrong.
    """
    return plan_from_dict(read_document(path))


def plan_from_text(text: str, *, name_hint: str = "<plan>") -> Plan:
    """Read a plan from YAML or JSON text.

    Args:
        name_hint: where the text came from (a file name, ``<stdin>``): a parse error names
            it, and a name ending in ``.json`` is read as JSON (else YAML, which JSON is too).

    Raises:
        InvalidDefinition: naming ``name_hint`` when the text does not parse; naming the
            field when the plan is wrong.
    """
    try:
        document = json.loads(text) if name_hint.endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError, RecursionError) as error:
        raise InvalidDefinition(name_hint, f"not valid YAML or JSON: {error}") from error
    return plan_from_dict(document)


def plan_from_dict(document: Any) -> Plan:
    """Validate a whole plan document (as parsed from YAML or JSON) into a ``Plan``.

    Raises:
        InvalidDefinition: naming the path of the first wrong field and what is wrong.
    """
    surrogate = find_lone_surrogate(document, "")
    if surrogate is not None:
        raise InvalidDefinition(surrogate.lstrip("."), "not valid Unicode: a lone surrogate")
    try:
        return _parse_plan(require_mapping(document, ""))
    except (TypeError, ValueError, OverflowError, RecursionError) as error:
        if isinstance(error, InvalidDefinition):
            raise
        raise InvalidDefinition("", f"malformed document: {error}") from error


def _parse_plan(body: Mapping[str, Any]) -> Plan:
    check_fields(body, _PLAN_FIELDS | _STRATEGY_FIELDS, "")
    for field in ("plan", "flag", "environment"):
        if field not in body:
            raise InvalidDefinition(field, "missing")
    on_failure, steps, gradual_bake = _parse_on_failure(body.get("on_failure"), "on_failure")
    return Plan(
        name=parse_key(body["plan"], "plan", "plan"),
        flag=parse_key(body["flag"], "flag", "flag"),
        environment=parse_key(body["environment"], "environment", "environment"),
        stages=_parse_stages_or_strategy(body),
        gates=parse_gates(_or_empty(body.get("gates"), []), "gates"),
        on_failure=on_failure,
        gradual_steps=steps,
        gradual_bake=gradual_bake,
        limits=_parse_limits(_or_empty(body.get("limits"), {}), "limits"),
    )


def _or_empty(value: Any, empty: Any) -> Any:
    """An absent or null field (``gates:`` with nothing under it in YAML) is empty."""
    return empty if value is None else value


def _parse_stages_or_strategy(body: Mapping[str, Any]) -> tuple[Stage, ...]:
    if "strategy" not in body:
        extra = sorted(_STRATEGY_FIELDS & set(body))
        if extra:
            raise InvalidDefinition(extra[0], "only with a strategy (in place of stages)")
        if "stages" not in body:
            raise InvalidDefinition("stages", "missing: list the stages, or name a strategy")
        return parse_stages(body["stages"], "stages")
    if "stages" in body:
        raise InvalidDefinition("strategy", "give stages or a strategy, not both")
    stages = template(
        body["strategy"],
        target_percentage=body.get("target_percentage"),
        bake=parse_duration(body["bake"], "bake") if "bake" in body else None,
        rings=body.get("rings"),
        percentages=body.get("percentages"),
    )
    check_ramp_order(stages, "stages")
    return stages


def _parse_on_failure(raw: Any, path: str) -> tuple[OnFailure, tuple[float, ...], timedelta]:
    """``{rollback: immediate}`` (the default), ``hold``, or ``gradual`` with its steps."""
    if raw is None:
        return OnFailure.IMMEDIATE, _DEFAULT_STEPS, _DEFAULT_GRADUAL_BAKE
    body = {"rollback": raw} if isinstance(raw, str) else require_mapping(raw, path)
    check_fields(body, _ON_FAILURE_FIELDS, path)
    mode = parse_choice(body.get("rollback"), f"{path}.rollback", OnFailure)
    if mode is not OnFailure.GRADUAL:
        extra = sorted({"steps", "bake"} & set(body))
        if extra:
            raise InvalidDefinition(f"{path}.{extra[0]}", "only with rollback: gradual")
        return mode, _DEFAULT_STEPS, _DEFAULT_GRADUAL_BAKE
    steps = (
        _parse_gradual_steps(body["steps"], f"{path}.steps") if "steps" in body else _DEFAULT_STEPS
    )
    bake = parse_duration(body["bake"], f"{path}.bake") if "bake" in body else _DEFAULT_GRADUAL_BAKE
    return mode, steps, bake


def _parse_gradual_steps(raw: Any, path: str) -> tuple[float, ...]:
    items = require_list(raw, path)
    steps = tuple(parse_percent(item, f"{path}[{i}]") for i, item in enumerate(items))
    for index, step in enumerate(steps):
        if step >= (steps[index - 1] if index else 100):
            raise InvalidDefinition(
                f"{path}[{index}]", f"steps go down from 100, each below the last; got {step:g}"
            )
    if not steps or steps[-1] != 0:
        raise InvalidDefinition(path, "the last step must be 0: a rollback ends with the flag off")
    return steps


def _parse_limits(raw: Any, path: str) -> GateLimits:
    body = require_mapping(raw, path)
    check_fields(body, _LIMIT_FIELDS, path)
    return GateLimits(
        failure_limit=parse_count(
            body.get("failure_limit", _DEFAULT_LIMITS.failure_limit),
            f"{path}.failure_limit",
            minimum=0,
        ),
        error_limit=parse_count(
            body.get("error_limit", _DEFAULT_LIMITS.error_limit), f"{path}.error_limit", minimum=1
        ),
        inconclusive_timeout=_limit_duration(body, "inconclusive_timeout", path),
        inconclusive_policy=parse_choice(
            body.get("inconclusive_policy", _DEFAULT_LIMITS.inconclusive_policy.value),
            f"{path}.inconclusive_policy",
            InconclusivePolicy,
        ),
        no_data_grace=_limit_duration(body, "no_data_grace", path, allow_zero=True),
        no_data_policy=parse_choice(
            body.get("no_data_policy", _DEFAULT_LIMITS.no_data_policy.value),
            f"{path}.no_data_policy",
            NoDataPolicy,
        ),
        stale_after=_limit_duration(body, "stale_after", path),
    )


def _limit_duration(
    body: Mapping[str, Any], field: str, path: str, *, allow_zero: bool = False
) -> timedelta:
    if field not in body:
        default: timedelta = getattr(_DEFAULT_LIMITS, field)
        return default
    return parse_duration(body[field], f"{path}.{field}", allow_zero=allow_zero)


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """The canonical document of ``plan``: every field written out, templates expanded.

    Raises:
        ValueError: when a duration of the plan has a fraction of a second (a plan built in
            Python, not read from a document), which the document cannot hold.
    """
    return {
        "plan": plan.name,
        "flag": plan.flag,
        "environment": plan.environment,
        "stages": [dump_stage(stage) for stage in plan.stages],
        "gates": [dump_gate(gate) for gate in plan.gates],
        "on_failure": _dump_on_failure(plan),
        "limits": _dump_limits(plan.limits),
    }


def _dump_on_failure(plan: Plan) -> dict[str, Any]:
    if plan.on_failure is not OnFailure.GRADUAL:
        return {"rollback": plan.on_failure.value}
    return {
        "rollback": plan.on_failure.value,
        "steps": [format_percent(step) for step in plan.gradual_steps],
        "bake": format_duration(plan.gradual_bake),
    }


def _dump_limits(limits: GateLimits) -> dict[str, Any]:
    return {
        "failure_limit": limits.failure_limit,
        "error_limit": limits.error_limit,
        "inconclusive_timeout": format_duration(limits.inconclusive_timeout),
        "inconclusive_policy": limits.inconclusive_policy.value,
        "no_data_grace": format_duration(limits.no_data_grace),
        "no_data_policy": limits.no_data_policy.value,
        "stale_after": format_duration(limits.stale_after),
    }
