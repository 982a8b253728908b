"""Parity between a migration's old and new tables: row-count delta and checksum, judged.

Seed 003's thresholds are the defaults: a row-count delta below 10 is ``ok``, above 100 a
``warning``, above 1000 ``critical`` (its decision matrix: emergency rollback); in between is
``drift`` (not in sync, not yet worth an alert). Equal counts with different checksums mean
rows differ in content: ``checksum_mismatch`` (default ``warning``) says how bad that is. A
count that differs makes the checksums differ too, so then the count alone is judged.

The sums are the backfill's chunk checksums (``rheostat.backfill.checksum.ChunkSum``), one per
table and one per group (a pilot org), computed in the database by the runner.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from rheostat.backfill.checksum import ChunkSum

__all__ = [
    "EMPTY",
    "GroupParity",
    "ParityAction",
    "ParityLevel",
    "ParityReport",
    "ParityThresholds",
    "assess_parity",
    "classify",
]

EMPTY = ChunkSum(0, 0, 0)
"""The sums of no rows (a group one side does not have)."""


class ParityLevel(StrEnum):
    """How far apart the two sides are, from best to worst."""

    OK = "ok"
    DRIFT = "drift"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for ``ok`` up to 3 for ``critical``."""
        return tuple(ParityLevel).index(self)


class ParityAction(StrEnum):
    """What seed 003's rollback decision matrix says to do."""

    CONTINUE = "continue"
    MONITOR = "monitor"
    INVESTIGATE = "investigate"
    """Warning: check the dual-write path (triggers, the ``Migrator``'s secondary writes)."""
    ROLLBACK_GROUPS = "rollback_groups"
    """Only some pilot groups are critical: take the stage back for those orgs only."""
    ROLLBACK = "rollback"
    """The table is critical: take the stage back for everyone, now."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ParityThresholds:
    """Row-count delta limits (absolute rows) and the level of a checksum-only difference."""

    ok_below: int = 10
    warning_above: int = 100
    critical_above: int = 1000
    checksum_mismatch: ParityLevel = ParityLevel.WARNING


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupParity:
    """One side-by-side comparison: the whole table (``group`` ``None``) or one group."""

    group: str | None
    old: ChunkSum
    new: ChunkSum
    level: ParityLevel

    @property
    def row_delta(self) -> int:
        """New rows minus old rows (negative: the new table is missing rows)."""
        return self.new.rows - self.old.rows

    @property
    def checksum_matches(self) -> bool:
        """Whether both sides hold the same rows (count and both hash sums)."""
        return self.old == self.new

    def to_dict(self) -> dict[str, Any]:
        """As JSON."""
        return {
            "group": self.group,
            "old_rows": self.old.rows,
            "new_rows": self.new.rows,
            "row_delta": self.row_delta,
            "checksum_matches": self.checksum_matches,
            "level": self.level.value,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ParityReport:
    """The table's parity, each group's, the worst level and the action it calls for."""

    migration: str
    table: GroupParity
    groups: tuple[GroupParity, ...] = field(default=())
    group_by: str | None = None

    @property
    def level(self) -> ParityLevel:
        """The worst level of the table and its groups."""
        return max((self.table, *self.groups), key=lambda part: part.level.rank).level

    @property
    def is_synced(self) -> bool:
        """Zero delta and equal checksums, for the table and every group."""
        return all(part.checksum_matches for part in (self.table, *self.groups))

    @property
    def critical_groups(self) -> tuple[str, ...]:
        """The groups at ``critical``."""
        return tuple(str(part.group) for part in self.groups if part.level is ParityLevel.CRITICAL)

    @property
    def action(self) -> ParityAction:
        """Seed 003's decision matrix: a critical table rolls back for everyone; critical
        groups in a table that is not, for those groups only."""
        if self.table.level is ParityLevel.CRITICAL:
            return ParityAction.ROLLBACK
        if self.critical_groups:
            return ParityAction.ROLLBACK_GROUPS
        return _ACTIONS[self.level]

    @property
    def worst_group_delta(self) -> int:
        """The largest absolute row delta of any group (0 without groups)."""
        return max((abs(part.row_delta) for part in self.groups), default=0)

    @property
    def checksum_mismatches(self) -> int:
        """How many of the table and its groups differ by checksum."""
        return sum(not part.checksum_matches for part in (self.table, *self.groups))

    def to_dict(self) -> dict[str, Any]:
        """As JSON (stored with each parity run, shown by ``/health`` and the CLI)."""
        return {
            "migration": self.migration,
            "level": self.level.value,
            "action": self.action.value,
            "synced": self.is_synced,
            "row_delta": self.table.row_delta,
            "worst_group_delta": self.worst_group_delta,
            "checksum_mismatches": self.checksum_mismatches,
            "critical_groups": list(self.critical_groups),
            "group_by": self.group_by,
            "table": self.table.to_dict(),
            "groups": [part.to_dict() for part in self.groups],
        }


_ACTIONS: Mapping[ParityLevel, ParityAction] = {
    ParityLevel.OK: ParityAction.CONTINUE,
    ParityLevel.DRIFT: ParityAction.MONITOR,
    ParityLevel.WARNING: ParityAction.INVESTIGATE,
    ParityLevel.CRITICAL: ParityAction.ROLLBACK,
}


def classify(old: ChunkSum, new: ChunkSum, thresholds: ParityThresholds) -> ParityLevel:
    """The level of one comparison: the row delta against the thresholds; with equal counts,
    a checksum difference is ``thresholds.checksum_mismatch``."""
    delta = abs(new.rows - old.rows)
    if delta > thresholds.critical_above:
        return ParityLevel.CRITICAL
    if delta > thresholds.warning_above:
        return ParityLevel.WARNING
    if delta >= thresholds.ok_below:
        return ParityLevel.DRIFT
    if delta == 0 and old != new:
        return thresholds.checksum_mismatch
    return ParityLevel.OK


def assess_parity(  # noqa: PLR0913  # two sides of two levels, then the settings
    migration: str,
    *,
    old_table: ChunkSum,
    new_table: ChunkSum,
    old_groups: Mapping[str, ChunkSum] | None = None,
    new_groups: Mapping[str, ChunkSum] | None = None,
    group_by: str | None = None,
    thresholds: ParityThresholds | None = None,
) -> ParityReport:
    """Judge the table and each group (a group one side lacks counts as empty there); groups
    come out worst first (largest absolute delta, then name)."""
    limits = thresholds or ParityThresholds()
    old_by_group, new_by_group = old_groups or {}, new_groups or {}
    groups = [
        GroupParity(
            group=name,
            old=old_by_group.get(name, EMPTY),
            new=new_by_group.get(name, EMPTY),
            level=classify(old_by_group.get(name, EMPTY), new_by_group.get(name, EMPTY), limits),
        )
        for name in set(old_by_group) | set(new_by_group)
    ]
    groups.sort(key=lambda part: (-part.level.rank, -abs(part.row_delta), str(part.group)))
    table = GroupParity(
        group=None, old=old_table, new=new_table, level=classify(old_table, new_table, limits)
    )
    return ParityReport(migration=migration, table=table, groups=tuple(groups), group_by=group_by)
