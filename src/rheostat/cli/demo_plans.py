"""The demo's release plans: simulated traffic in, the controller's real path, events out.

Each pass is a simulated minute. First the SDKs' metric windows for that minute are recorded
(``service.record_metric_windows``, what ``POST /api/v1/client/metrics`` does), one per arm
and metric, drawn by ``rheostat.simulate`` from each release's scenario at the exposure the
plan serves; then the clock moves on a minute and the controller passes as ``rheostat
controller run`` does: lease the plans, look at their gates, apply the look, run the stage
work. Every event a pass records is printed as it happens.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from rheostat import service
from rheostat.cli.demo_clock import FastClock
from rheostat.cli.demo_scenario import SIMULATED_MINUTE, Release
from rheostat.cli.demo_traffic import traffic_windows
from rheostat.cli.output import show
from rheostat.cli.render_demo import (
    format_evidence,
    format_plan_event,
    format_release,
    format_release_outcomes,
)
from rheostat.rollout.state import TERMINAL_PHASES, Command, CommandKind, Phase
from rheostat.settings import Settings

__all__ = ["run_releases"]

_OWNER = "rheostat-demo"
_LEASE = timedelta(minutes=5)
_MAX_PASSES = 24 * 60
"""A simulated day: far more than the plans need; a plan still running then is a bug."""
_EVIDENCE_EVENTS = frozenset({"plan.rolling_back", "plan.paused", "plan.failed"})
_AT_REST = TERMINAL_PHASES | {Phase.PAUSED, Phase.AWAITING_APPROVAL}
"""Where a plan stops moving on its own: finished, or waiting for a human."""


def run_releases(
    store: service.SqlStore,
    clock: FastClock,
    releases: tuple[Release, ...],
    *,
    actor: str,
    seed: int,
) -> list[service.PlanRecord]:
    """Create and start the plans, then pass until none moves on its own any more."""
    records = _start(store, releases, actor=actor)
    by_name = {release.plan.name: release for release in releases}
    rng = np.random.default_rng(seed)
    settings = Settings()  # where check suites and backfill jobs live, as the controller reads
    began = clock.now()
    printed = dict.fromkeys(records, 0)
    for record in records.values():
        _show_new_events(store, record, printed, began)
    for _ in range(_MAX_PASSES):
        running = [r for r in records.values() if r.state.phase not in _AT_REST]
        if not running:
            break
        _send_traffic(store, running, by_name, rng, start=clock.now())
        clock.advance(SIMULATED_MINUTE)
        for report in _controller_pass(store, settings):
            records[report.plan.name] = report.plan
            _show_new_events(store, report.plan, printed, began)
    with store.unit_of_work() as uow:
        service.release_plans(uow, _OWNER)
    finished = list(records.values())
    show(format_release_outcomes(finished, began=began))
    return finished


def _start(
    store: service.SqlStore, releases: tuple[Release, ...], *, actor: str
) -> dict[str, service.PlanRecord]:
    records = {}
    for release in releases:
        plan = release.plan
        show(format_release(plan, release.story))
        with store.unit_of_work() as uow:
            service.create_plan(uow, plan, change=service.Change(actor=actor, reason=release.story))
            start = Command(kind=CommandKind.START, actor=actor)
            records[plan.name] = service.command_plan(uow, plan.environment, plan.name, start).plan
    return records


def _send_traffic(
    store: service.SqlStore,
    running: list[service.PlanRecord],
    releases: Mapping[str, Release],
    rng: np.random.Generator,
    *,
    start: datetime,
) -> None:
    with store.unit_of_work() as uow:
        for record in running:
            windows = traffic_windows(releases[record.name], record.state, start=start, rng=rng)
            service.record_metric_windows(uow, record.environment, windows)


def _controller_pass(store: service.SqlStore, settings: Settings) -> list[service.TickReport]:
    """One pass of ``rheostat controller run``: lease, look, apply, then the stage work."""
    with store.unit_of_work() as uow:
        plans = service.claim_plans(uow, _OWNER, lease=_LEASE)
    reports = []
    for environment, name in plans:
        with store.reading() as uow:
            look = service.observe_plan(uow, environment, name)
        with store.unit_of_work() as uow:
            report = service.apply_observation(uow, look, owner=_OWNER)
        if report is None:
            continue
        runs = service.stage_work(look, report)
        if runs:
            service.run_stage_work(
                store,
                report.plan,
                runs,
                checks_dir=Path(settings.checks_dir),
                backfills_dir=Path(settings.backfills_dir),
                environ=dict(os.environ),
            )
        if report.changed:
            reports.append(report)
    return reports


def _show_new_events(
    store: service.SqlStore, record: service.PlanRecord, printed: dict[str, int], began: datetime
) -> None:
    """Print the plan's events not printed yet (``printed``: how many were, per plan)."""
    with store.reading() as uow:
        events = service.plan_events(uow, record.environment, record.name)
    for event in events[printed[record.name] :]:
        show(format_plan_event(event, elapsed=event.at - began))
        if event.type in _EVIDENCE_EVENTS:
            show(format_evidence(event.evidence))
    printed[record.name] = len(events)
