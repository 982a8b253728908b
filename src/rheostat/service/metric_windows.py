"""Recording metric windows from SDKs, and summing them for release-plan gates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from rheostat.errors import ValidationError
from rheostat.inputs import validate_lookup
from rheostat.metrics import MetricWindow, WindowKind, WindowTotals
from rheostat.store.unit_of_work import UnitOfWork

__all__ = ["MAX_WINDOWS", "MetricReceipt", "metric_totals", "record_metric_windows"]

MAX_WINDOWS = 10_000
"""Windows per request: a bigger batch is split by the sender."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricReceipt:
    """What a batch did: windows counted now, and windows whose id was counted before."""

    recorded: int
    duplicates: int


def record_metric_windows(
    uow: UnitOfWork, environment: str, windows: Sequence[MetricWindow]
) -> MetricReceipt:
    """Add the windows to the environment's metric windows, each id counted once.

    Windows with the same flag, metric, variant, kind, start and length add up (many SDK
    processes send the same window); a window whose ``id`` was seen before is a retry and
    changes nothing.

    Raises:
        NotFound: no such environment. ValidationError: more than ``MAX_WINDOWS`` windows.
    """
    validate_lookup(environment=environment)
    if len(windows) > MAX_WINDOWS:
        raise ValidationError(
            f"at most {MAX_WINDOWS} windows per request, got {len(windows)}; split the batch",
            details={"field": "windows"},
        )
    uow.environments.get(environment)
    ids = [window.id for window in windows if window.id is not None]
    new = uow.metrics.claim_ids(environment, ids, at=uow.now)
    counted: list[MetricWindow] = []
    for window in windows:
        if window.id is None:
            counted.append(window)
        elif window.id in new:
            new.discard(window.id)  # the same id twice in one batch counts once
            counted.append(window)
    uow.metrics.add(environment, counted)
    return MetricReceipt(recorded=len(counted), duplicates=len(windows) - len(counted))


def metric_totals(  # noqa: PLR0913  # the window's coordinates, then whether to read sketches
    uow: UnitOfWork,
    environment: str,
    flag: str,
    metric: str,
    *,
    since: datetime,
    until: datetime,
    sketches: bool = False,
) -> dict[tuple[str, WindowKind], WindowTotals]:
    """The metric's statistics per (variant, kind), over windows starting in [since, until);
    with ``sketches``, mean windows' quantile sketches merged too (``totals.quantile(0.95)``).

    Raises:
        NotFound: no such environment.
    """
    validate_lookup(environment=environment, flag=flag, metric=metric)
    return uow.metrics.totals(
        environment, flag, metric, since=since, until=until, sketches=sketches
    )
