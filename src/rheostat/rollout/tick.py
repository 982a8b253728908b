"""``Tick``: the state being built and the actions gathered during one ``decide``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from rheostat.rollout.state import Action, Decision, Exposure, PlanState, RecordEvent

__all__ = ["Tick", "exposure_evidence", "iso"]


class Tick:
    """The state being built during one ``decide``, and the actions gathered on the way."""

    def __init__(self, state: PlanState, now: datetime) -> None:
        self.state = state
        self.now = now
        self.actions: list[Action] = []

    def move(self, **changes: Any) -> None:
        self.state = replace(self.state, **changes)

    def progress(self, **changes: Any) -> None:
        """A transition: stamp it, and let a later stale spell alert again."""
        self.move(last_progress_at=self.now, stale_alerted_at=None, **changes)

    def event(self, kind: str, message: str, evidence: Mapping[str, Any] | None = None) -> None:
        self.actions.append(
            RecordEvent(type=kind, stage=self.state.stage, message=message, evidence=evidence or {})
        )

    def decision(self) -> Decision:
        return Decision(state=self.state, actions=tuple(self.actions))


def exposure_evidence(exposure: Exposure) -> dict[str, Any]:
    return {
        "percent": exposure.percent,
        "holdback_percent": exposure.holdback_percent,
        "segments": list(exposure.segments),
    }


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
