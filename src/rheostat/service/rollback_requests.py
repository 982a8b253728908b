"""What a rollback asks for (``RollbackRequest``), checked before anything changes."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta

from rheostat.errors import ValidationError
from rheostat.inputs import MAX_VERSION, validate_key, validate_number
from rheostat.store.operations_records import RollbackMode

__all__ = ["DEFAULT_GRADUAL_STEPS", "RollbackRequest", "check_request"]

DEFAULT_GRADUAL_STEPS = (75.0, 50.0, 25.0, 0.0)
"""Seed 001's gradual rollback: shares of the exposure the rollback started from."""
_MAX_STEPS = 20
_MAX_NAMES = 10_000
_MAX_BAKE = timedelta(days=30)


@dataclass(frozen=True, slots=True, kw_only=True)
class RollbackRequest:
    """How to roll a flag back.

    Attributes:
        mode: immediate, gradual, targeted or version.
        users, groups, orgs: for ``targeted``: who gets the off value.
        org_attribute: the context attribute that holds the organisation (``org_id``).
        version: for ``version``: the flag version to go back to.
        steps: for ``gradual``: shares (percent) of the current exposure, decreasing, ending
            at 0 (default 75, 50, 25, 0).
        bake: for ``gradual``: the wait between steps (default 5 minutes).
    """

    mode: RollbackMode
    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    orgs: tuple[str, ...] = ()
    org_attribute: str = "org_id"
    version: int | None = None
    steps: tuple[float, ...] = DEFAULT_GRADUAL_STEPS
    bake: timedelta = timedelta(minutes=5)


# Checks -----------------------------------------------------------------------------------------


def check_request(request: RollbackRequest) -> None:
    """Raise ``ValidationError`` naming the field when ``request`` does not fit its mode."""
    if not isinstance(request.mode, RollbackMode):
        raise ValidationError(
            f"mode must be one of {', '.join(m.value for m in RollbackMode)}",
            details={"field": "mode"},
        )
    if request.mode is RollbackMode.TARGETED:
        _check_targets(request)
    elif request.mode is RollbackMode.VERSION:
        if request.version is None:
            raise ValidationError(
                "a rollback to a version names the version", details={"field": "version"}
            )
        validate_number(request.version, "version", minimum=1, maximum=MAX_VERSION)
    elif request.mode is RollbackMode.GRADUAL:
        _check_steps(request)


def _check_targets(request: RollbackRequest) -> None:
    names = (*request.users, *request.groups, *request.orgs)
    if not names:
        raise ValidationError(
            "a targeted rollback names at least one user, group or organisation",
            details={"field": "users"},
        )
    if len(names) > _MAX_NAMES:
        raise ValidationError(
            f"at most {_MAX_NAMES} users, groups and organisations in one targeted rollback",
            details={"field": "users"},
        )
    for name in names:
        if not isinstance(name, str) or not name or len(name) > 256:
            raise ValidationError(
                f"users, groups and orgs are names of 1 to 256 characters, got {name!r}",
                details={"field": "users"},
            )
    validate_key(request.org_attribute, "org_attribute")


def _check_steps(request: RollbackRequest) -> None:
    steps = request.steps
    bake = request.bake
    if not steps or len(steps) > _MAX_STEPS:
        raise ValidationError(
            f"steps: 1 to {_MAX_STEPS} shares of the exposure", details={"field": "steps"}
        )
    ok = all(not isinstance(s, bool) and isinstance(s, int | float) and 0 <= s < 100 for s in steps)
    decreasing = all(later < earlier for earlier, later in itertools.pairwise(steps))
    if not ok or not decreasing or steps[-1] != 0:
        raise ValidationError(
            "steps must be percentages below 100, decreasing, ending at 0 (e.g. 75, 50, 25, 0),"
            f" got {list(steps)!r}",
            details={"field": "steps"},
        )
    if not timedelta(0) <= bake <= _MAX_BAKE:
        raise ValidationError(
            f"bake must be between 0 and {_MAX_BAKE.days} days", details={"field": "bake"}
        )
