"""A migration's stages and where each sends reads and writes: the routing table.

``off → dual_write → shadow → live → rampdown → complete``. Each stage past ``off`` has a bool
flag of its own, ``migrate.<migration>.<stage>``; a context is in the **highest** stage whose
flag is on for it. So a release plan ramps one stage's flag (to a pilot segment first, then
1 % → 100 %) like any flag, and rolling that flag back (a failed gate, ``flags rollback``,
the kill switch) drops its contexts to the stage below: the migration steps back one stage.

All stage flags of a migration share one salt (``migrate.<migration>``), so with the "on"
share in the lowest buckets a 5 % ``live`` is inside a 50 % ``shadow``: ramps nest.

Routing, stage by stage (the *primary* store's answer and error reach the caller; the
*secondary* write's error is recorded, never raised; the *compared* read runs on a sample):

| stage | reads | compared with | writes (primary, then secondary) |
|---|---|---|---|
| off | old | - | old |
| dual_write | old | - | old, new |
| shadow | old | new | old, new |
| live | new | old | new, old |
| rampdown | new | - | new, old |
| complete | new | - | new |

Until ``live`` the old store is authoritative; from ``live`` on the new one is. Every stage
before ``complete`` keeps both stores written, so any of them can be rolled back without
losing a write; ``complete`` stops writing the old store, so it is rolled back only with a
fresh backfill.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from rheostat.errors import ValidationError

__all__ = [
    "FLAGGED_STAGES",
    "FLAG_PREFIX",
    "Route",
    "Stage",
    "StoreSide",
    "route",
    "stage_flag_definitions",
    "stage_flag_key",
    "stage_flag_keys",
    "stage_of",
    "stage_salt",
]

FLAG_PREFIX = "migrate"


class Stage(StrEnum):
    """A migration's stage, in order."""

    OFF = "off"
    DUAL_WRITE = "dual_write"
    SHADOW = "shadow"
    LIVE = "live"
    RAMPDOWN = "rampdown"
    COMPLETE = "complete"

    @property
    def rank(self) -> int:
        """The stage's position: ``off`` is 0, ``complete`` 5."""
        return _ORDER.index(self)


_ORDER = tuple(Stage)
FLAGGED_STAGES: tuple[Stage, ...] = _ORDER[1:]
"""The stages that have a flag (``off`` is where a context is when none is on)."""


class StoreSide(StrEnum):
    """One of the two stores."""

    OLD = "old"
    NEW = "new"

    @property
    def other(self) -> StoreSide:
        """The other store."""
        return StoreSide.NEW if self is StoreSide.OLD else StoreSide.OLD


@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    """Where one stage sends reads and writes.

    Attributes:
        stage: the stage.
        read: the store whose answer the caller gets (and whose error it sees).
        compare_read: the other store, read on a sample and compared; ``None``: no compare.
        write: the authoritative write: it runs first, and its error reaches the caller
            (the secondary write is then skipped).
        mirror_write: the secondary write, after the primary succeeded: its error is
            recorded, never raised; ``None``: one store only.
    """

    stage: Stage
    read: StoreSide
    compare_read: StoreSide | None
    write: StoreSide
    mirror_write: StoreSide | None

    @property
    def writes(self) -> tuple[StoreSide, ...]:
        """The stores written, in order."""
        return (self.write,) if self.mirror_write is None else (self.write, self.mirror_write)

    @property
    def is_rollback_safe(self) -> bool:
        """Whether stepping back from this stage loses no write (both stores are written)."""
        return self.mirror_write is not None or self.stage is Stage.OFF


_OLD, _NEW = StoreSide.OLD, StoreSide.NEW
_ROUTES: Mapping[Stage, Route] = {
    Stage.OFF: Route(stage=Stage.OFF, read=_OLD, compare_read=None, write=_OLD, mirror_write=None),
    Stage.DUAL_WRITE: Route(
        stage=Stage.DUAL_WRITE, read=_OLD, compare_read=None, write=_OLD, mirror_write=_NEW
    ),
    Stage.SHADOW: Route(
        stage=Stage.SHADOW, read=_OLD, compare_read=_NEW, write=_OLD, mirror_write=_NEW
    ),
    Stage.LIVE: Route(
        stage=Stage.LIVE, read=_NEW, compare_read=_OLD, write=_NEW, mirror_write=_OLD
    ),
    Stage.RAMPDOWN: Route(
        stage=Stage.RAMPDOWN, read=_NEW, compare_read=None, write=_NEW, mirror_write=_OLD
    ),
    Stage.COMPLETE: Route(
        stage=Stage.COMPLETE, read=_NEW, compare_read=None, write=_NEW, mirror_write=None
    ),
}


def route(stage: Stage) -> Route:
    """The routing of ``stage`` (the table in this module's docstring)."""
    return _ROUTES[stage]


def stage_of(flags_on: Mapping[Stage, bool]) -> Stage:
    """The highest stage whose flag is on; ``off`` when none is (a missing stage is off)."""
    for stage in reversed(FLAGGED_STAGES):
        if flags_on.get(stage, False):
            return stage
    return Stage.OFF


def stage_flag_key(migration: str, stage: Stage) -> str:
    """The bool flag that puts a context in ``stage``: ``migrate.<migration>.<stage>``.

    Raises:
        ValidationError: ``off`` has no flag.
    """
    if stage is Stage.OFF:
        raise ValidationError("the stage 'off' has no flag: it is where no stage flag is on")
    return f"{FLAG_PREFIX}.{migration}.{stage.value}"


def stage_flag_keys(migration: str) -> dict[Stage, str]:
    """Every stage flag of ``migration``, lowest stage first."""
    return {stage: stage_flag_key(migration, stage) for stage in FLAGGED_STAGES}


def stage_salt(migration: str) -> str:
    """The salt all of a migration's stage flags share, so that their ramps nest."""
    return f"{FLAG_PREFIX}.{migration}"


def stage_flag_definitions(migration: str) -> dict[str, dict[str, Any]]:
    """The native definitions of the migration's stage flags, all off: bool flags with
    variants ``on``/``off`` and the migration's shared salt, ready for a flag document or
    ``rheostat flags import`` (then ramp each with ``flags rollout`` or a release plan)."""
    return {
        key: {
            "description": f"migration {migration}: stage {stage.value} (rheostat.migrate)",
            "type": "bool",
            "enabled": True,
            "variants": {"on": True, "off": False},
            "default": "off",
            "salt": stage_salt(migration),
        }
        for stage, key in stage_flag_keys(migration).items()
    }
