"""The ``stages`` of a release plan document: each a one-key mapping (``- ramp: {...}``).

``parse_stages`` validates the list whole (each stage, then the order of the ramps);
``dump_stage`` writes the canonical form that ``parse_stages`` reads back unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rheostat.errors import InvalidDefinition
from rheostat.rollout._plan_fields import (
    check_fields,
    format_duration,
    format_moment,
    format_percent,
    parse_bool,
    parse_duration,
    parse_key,
    parse_keys,
    parse_moment,
    parse_percent,
    parse_text,
    require_list,
    require_mapping,
)
from rheostat.rollout.model import (
    ApprovalStage,
    BackfillStage,
    CheckStage,
    MonitorStage,
    RampStage,
    Stage,
    WaitUntilStage,
)

__all__ = ["dump_stage", "parse_stages"]

MAX_HOLDBACK_PERCENT = 50.0
"""An equal-size holdback beside the exposure needs as many users again."""


def parse_stages(raw: Any, path: str) -> tuple[Stage, ...]:
    """Validate the stage list, then the ramps' order (non-decreasing within one audience)."""
    items = require_list(raw, path)
    if not items:
        raise InvalidDefinition(path, "a plan needs at least one stage")
    stages = tuple(_parse_stage(item, f"{path}[{index}]") for index, item in enumerate(items))
    check_ramp_order(stages, path)
    return stages


def check_ramp_order(stages: tuple[Stage, ...], path: str) -> None:
    """Refuse a ramp below an earlier ramp of the same audience (everyone, or one ring).

    Exposure only narrows by a rollback, never by a plan step: the machine's "never raise
    exposure after a failing verdict" would mean nothing if a plan could lower it at will.
    """
    highest: dict[frozenset[str], tuple[float, int]] = {}
    for index, stage in enumerate(stages):
        if not isinstance(stage, RampStage):
            continue
        audience = frozenset(stage.segments)
        earlier = highest.get(audience)
        if earlier is not None and stage.percent < earlier[0]:
            raise InvalidDefinition(
                f"{path}[{index}].ramp.percent",
                f"{format_percent(stage.percent)}% is below the {format_percent(earlier[0])}%"
                f" of {path}[{earlier[1]}]: a plan never lowers the exposure of an audience",
            )
        highest[audience] = (stage.percent, index)


def _parse_stage(item: Any, path: str) -> Stage:
    if item == "approval":
        return ApprovalStage()
    if isinstance(item, str):
        raise InvalidDefinition(path, f"a stage given as a string must be 'approval', got {item!r}")
    body = require_mapping(item, path)
    if len(body) != 1:
        raise InvalidDefinition(
            path, f"a stage is a mapping of one kind ({_KINDS}), got {sorted(body)}"
        )
    [(kind, value)] = body.items()
    parser = _STAGE_PARSERS.get(kind)
    if parser is None:
        raise InvalidDefinition(f"{path}.{kind}", f"unknown stage kind (one of {_KINDS})")
    return parser(value, f"{path}.{kind}")


def _parse_check(raw: Any, path: str) -> Stage:
    return CheckStage(checks=parse_keys(raw, path, "check"))


def _parse_backfill(raw: Any, path: str) -> Stage:
    body = require_mapping(raw, path)
    check_fields(body, {"job", "verify"}, path)
    if "job" not in body:
        raise InvalidDefinition(f"{path}.job", "missing: name the backfill job")
    return BackfillStage(
        job=parse_key(body["job"], f"{path}.job", "job"),
        verify=parse_key(body.get("verify", "checksum"), f"{path}.verify", "verify"),
    )


def _parse_ramp(raw: Any, path: str) -> Stage:
    body = require_mapping(raw, path)
    check_fields(body, {"percent", "bake", "holdback", "approval", "segments"}, path)
    if "percent" not in body:
        raise InvalidDefinition(f"{path}.percent", "missing: the exposure of this stage")
    percent = parse_percent(body["percent"], f"{path}.percent")
    holdback = parse_bool(body.get("holdback", False), f"{path}.holdback")
    if holdback and percent > MAX_HOLDBACK_PERCENT:
        raise InvalidDefinition(
            f"{path}.holdback",
            f"an equal-size holdback needs percent at most {MAX_HOLDBACK_PERCENT:g},"
            f" got {format_percent(percent)}",
        )
    return RampStage(
        percent=percent,
        bake=parse_duration(body.get("bake", 0), f"{path}.bake"),
        holdback=holdback,
        approval=_parse_approval_flag(body.get("approval", False), f"{path}.approval"),
        segments=parse_keys(
            body.get("segments", []), f"{path}.segments", "segment", allow_empty=True
        ),
    )


def _parse_approval_flag(raw: Any, path: str) -> bool:
    if raw == "required":
        return True
    if not isinstance(raw, bool):
        raise InvalidDefinition(path, f"must be 'required', true or false, got {raw!r}")
    return raw


def _parse_approval(raw: Any, path: str) -> Stage:
    body = require_mapping({} if raw is None else raw, path)
    check_fields(body, {"note"}, path)
    if body.get("note") is None:
        return ApprovalStage()
    return ApprovalStage(note=parse_text(body["note"], f"{path}.note", multiline=True))


def _parse_monitor(raw: Any, path: str) -> Stage:
    body = require_mapping(raw, path)
    check_fields(body, {"for"}, path)
    if "for" not in body:
        raise InvalidDefinition(f"{path}.for", "missing: how long to watch, such as '24h'")
    return MonitorStage(duration=parse_duration(body["for"], f"{path}.for", allow_zero=False))


def _parse_wait_until(raw: Any, path: str) -> Stage:
    return WaitUntilStage(at=parse_moment(raw, path))


_STAGE_PARSERS: Mapping[str, Callable[[Any, str], Stage]] = {
    "check": _parse_check,
    "backfill": _parse_backfill,
    "ramp": _parse_ramp,
    "approval": _parse_approval,
    "monitor": _parse_monitor,
    "wait_until": _parse_wait_until,
}
_KINDS = ", ".join(_STAGE_PARSERS)


def dump_stage(stage: Stage) -> dict[str, Any]:
    """The canonical form of one stage: a one-key mapping with every field written out."""
    match stage:
        case CheckStage(checks=checks):
            return {"check": list(checks)}
        case BackfillStage(job=job, verify=verify):
            return {"backfill": {"job": job, "verify": verify}}
        case RampStage():
            return {"ramp": _dump_ramp(stage)}
        case ApprovalStage(note=note):
            return {"approval": {} if note is None else {"note": note}}
        case MonitorStage(duration=duration):
            return {"monitor": {"for": format_duration(duration)}}
        case WaitUntilStage(at=at):
            return {"wait_until": format_moment(at)}
    raise TypeError(f"not a stage: {stage!r}")  # pragma: no cover  # the match is exhaustive


def _dump_ramp(stage: RampStage) -> dict[str, Any]:
    return {
        "percent": format_percent(stage.percent),
        "bake": format_duration(stage.bake),
        "holdback": stage.holdback,
        "approval": stage.approval,
        "segments": list(stage.segments),
    }
