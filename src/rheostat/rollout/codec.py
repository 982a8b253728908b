"""A ``PlanState`` as a JSON document and back: what the store keeps for a running plan.

The plan itself is stored as its canonical document (``plan_to_dict``); the state as the
fields below. Times are RFC 3339 strings in UTC, so a state read back equals the one written.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from rheostat.errors import InvalidDefinition
from rheostat.rollout.model import Plan
from rheostat.rollout.state import Exposure, GateTally, Phase, PlanState

__all__ = ["state_from_dict", "state_to_dict"]


def state_to_dict(state: PlanState) -> dict[str, Any]:
    """The state's fields without its plan, JSON-ready."""
    return {
        "phase": state.phase.value,
        "stage": state.stage,
        "stage_started_at": _time(state.stage_started_at),
        "exposure": _exposure(state.exposure),
        "approved": sorted(state.approved),
        "paused_at": _time(state.paused_at),
        "resume_to": None if state.resume_to is None else state.resume_to.value,
        "tallies": {name: _tally(tally) for name, tally in sorted(state.tallies.items())},
        "held_since": _time(state.held_since),
        "rollback_from": None if state.rollback_from is None else _exposure(state.rollback_from),
        "rollback_step": state.rollback_step,
        "rollback_step_at": _time(state.rollback_step_at),
        "last_progress_at": _time(state.last_progress_at),
        "stale_alerted_at": _time(state.stale_alerted_at),
        "message": state.message,
    }


def state_from_dict(plan: Plan, document: Mapping[str, Any]) -> PlanState:
    """The state ``state_to_dict`` wrote, for ``plan``.

    Raises:
        InvalidDefinition: the document is not a stored state (naming the field).
    """
    try:
        return _state(plan, document)
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidDefinition("state", f"is not a stored plan state: {error!r}") from error


def _state(plan: Plan, document: Mapping[str, Any]) -> PlanState:
    resume_to = document["resume_to"]
    rollback_from = document["rollback_from"]
    return PlanState(
        plan=plan,
        phase=Phase(document["phase"]),
        stage=int(document["stage"]),
        stage_started_at=_parse(document["stage_started_at"]),
        exposure=_exposure_of(document["exposure"]),
        approved=frozenset(int(index) for index in document["approved"]),
        paused_at=_parse(document["paused_at"]),
        resume_to=None if resume_to is None else Phase(resume_to),
        tallies={name: _tally_of(body) for name, body in document["tallies"].items()},
        held_since=_parse(document["held_since"]),
        rollback_from=None if rollback_from is None else _exposure_of(rollback_from),
        rollback_step=int(document["rollback_step"]),
        rollback_step_at=_parse(document["rollback_step_at"]),
        last_progress_at=_parse(document["last_progress_at"]),
        stale_alerted_at=_parse(document["stale_alerted_at"]),
        message=document["message"],
    )


def _exposure(exposure: Exposure) -> dict[str, Any]:
    return {
        "percent": exposure.percent,
        "holdback_percent": exposure.holdback_percent,
        "segments": list(exposure.segments),
    }


def _exposure_of(body: Mapping[str, Any]) -> Exposure:
    return Exposure(
        percent=float(body["percent"]),
        holdback_percent=float(body["holdback_percent"]),
        segments=tuple(str(segment) for segment in body["segments"]),
    )


def _tally(tally: GateTally) -> dict[str, Any]:
    return {
        "failures": tally.failures,
        "consecutive_errors": tally.consecutive_errors,
        "no_data_since": _time(tally.no_data_since),
        "warned": tally.warned,
    }


def _tally_of(body: Mapping[str, Any]) -> GateTally:
    return GateTally(
        failures=int(body["failures"]),
        consecutive_errors=int(body["consecutive_errors"]),
        no_data_since=_parse(body["no_data_since"]),
        warned=bool(body["warned"]),
    )


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _parse(text: str | None) -> datetime | None:
    if text is None:
        return None
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return moment
