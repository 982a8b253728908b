"""What ``GET /metrics`` reports about the stored state: plans, backfills, alerts, delivery.

One read per scrape, a handful of grouped queries; the request counters live in the API
process's memory and never touch the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from rheostat.rollout.state import Phase
from rheostat.service.backfills import BACKFILL_STATUSES
from rheostat.service.delivery import DEFAULT_LIVE_WITHIN
from rheostat.store.operations_records import AlertSeverity, AlertStatus
from rheostat.store.repositories import EnvironmentDelivery
from rheostat.store.unit_of_work import UnitOfWork

__all__ = ["EnvironmentDelivery", "Monitoring", "read_monitoring"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Monitoring:
    """Counts of stored state at one moment.

    Attributes:
        plans: release plans per phase, every phase present (zero when none).
        backfills: backfill jobs per status, every status present.
        firing_alerts: firing alerts per severity, every severity present.
        delivery: per environment, its revision and its live SDK processes.
    """

    plans: Mapping[str, int]
    backfills: Mapping[str, int]
    firing_alerts: Mapping[str, int]
    delivery: tuple[EnvironmentDelivery, ...]


def read_monitoring(uow: UnitOfWork, *, live_within: timedelta = DEFAULT_LIVE_WITHIN) -> Monitoring:
    """Read the counts (a read-only transaction is enough)."""
    return Monitoring(
        plans=_complete((phase.value for phase in Phase), uow.monitoring.plan_phases()),
        backfills=_complete(BACKFILL_STATUSES, uow.monitoring.backfill_statuses()),
        firing_alerts=_complete(
            (severity.value for severity in AlertSeverity),
            uow.monitoring.firing_alerts(AlertStatus.FIRING.value),
        ),
        delivery=tuple(uow.monitoring.delivery(uow.now - live_within)),
    )


def _complete(names: Iterable[str], found: Mapping[str, int]) -> dict[str, int]:
    """Every known name (zero when absent) and whatever else the database holds."""
    counts = dict.fromkeys(names, 0)
    counts.update(found)
    return counts
