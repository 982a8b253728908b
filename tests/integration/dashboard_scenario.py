"""A small, realistic store for the dashboard's browser tests: flags, a release plan with a
holdback, an experiment with traffic, backfill jobs, a check run and an SDK process.

Imported by test modules (not a conftest). Everything is written through ``rheostat.service``
into the SQLite file the served dashboard reads.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from rheostat import service
from rheostat.checks.model import CheckResult, CheckRun, Status
from rheostat.clock import FixedClock
from rheostat.experiments.model import Arm, Experiment, MetricKind, MetricSpec
from rheostat.rollout import GateMode, HoldbackGate, Plan, RampStage
from rheostat.rollout.state import Command, CommandKind
from rheostat.service import Change, SqlStore, transact

ENV = "production"
PLAN_NAME = "search-ramp"
BOOL = {"variants": {"on": True, "off": False}, "default": "off"}
FLAGS = {
    "checkout-v2": ("New checkout flow", 25.0),
    "hybrid-search": ("Hybrid keyword + vector search", None),
    "dark-mode": ("Dark theme for the web app", 100.0),
    "pricing-page": ("Redesigned pricing page", 5.0),
    "payments-kill-switch": ("Turns the payment provider integration off", 100.0),
}
PLAN = Plan(
    name=PLAN_NAME,
    flag="hybrid-search",
    environment=ENV,
    stages=(
        RampStage(percent=5, bake=timedelta(seconds=1), holdback=True),
        RampStage(percent=25, bake=timedelta(seconds=1), holdback=True),
        RampStage(percent=50, approval=True),
        RampStage(percent=100),
    ),
    gates=(HoldbackGate(name="errors", metric="http_errors", mode=GateMode.ROLLBACK),),
)
EXPERIMENT = Experiment(
    key="checkout-copy",
    description="Which button copy converts better",
    arms=(Arm(name="control", weight_percent=50), Arm(name="urgent", weight_percent=50)),
    metrics=(MetricSpec(name="purchase", kind=MetricKind.PROPORTION),),
)
SETUP = Change(actor="setup", reason="browser test scenario")


def seed(store: SqlStore) -> None:
    """Write the scenario; the plan is started (baking its first stage)."""
    for key, (description, percent) in FLAGS.items():
        transact(store, service.create_flag, ENV, key, {**BOOL, "description": description},
                 change=SETUP)  # fmt: skip
        if percent is not None:
            transact(store, service.set_rollout_percentage, ENV, key, percent, change=SETUP)
    transact(store, service.create_plan, PLAN, change=Change(actor="alice"))
    start = Command(kind=CommandKind.START, actor="alice", reason="ship hybrid search")
    transact(store, service.command_plan, ENV, PLAN_NAME, start)
    _experiment(store)
    _backfills(store)
    _check_run(store)
    revision = transact(store, service.record_heartbeat, ENV, _heartbeat(0))
    transact(store, service.record_heartbeat, ENV, _heartbeat(revision))


def _experiment(current: SqlStore) -> None:
    # The traffic is stamped minutes ago: results count only the metric windows that have
    # ended, so traffic of this very minute would show no comparison until the next one.
    store = service.open_store(
        current.url, clock=FixedClock(current.clock.now() - timedelta(minutes=5))
    )
    try:
        _experiment_traffic(store)
    finally:
        store.close()


def _experiment_traffic(store: SqlStore) -> None:
    transact(store, service.create_experiment, ENV, EXPERIMENT, change=SETUP)
    transact(store, service.start_experiment, ENV, EXPERIMENT.key, change=SETUP)
    units = [f"user-{index}" for index in range(3000)]
    exposures = [service.Exposure(unit=unit) for unit in units]
    transact(store, service.record_exposures, ENV, EXPERIMENT.key, exposures)
    draw = random.Random(13)  # noqa: S311  # simulated traffic, seeded
    with store.unit_of_work() as uow:
        converted = []
        for unit in units:
            arm = service.assign_unit(uow, ENV, EXPERIMENT.key, unit).arm
            if draw.random() < (0.13 if arm == "urgent" else 0.10):
                converted.append(service.Conversion(unit=unit, metric="purchase"))
        service.record_conversions(uow, ENV, EXPERIMENT.key, converted)


def _backfills(store: SqlStore) -> None:
    for name, rows_done, finished in (
        ("documents-to-es", 6_400, False),
        ("orders-v2", 10_000, True),
    ):
        definition = service.BackfillDefinition(
            name=name, document={"name": name}, fingerprint=name, strategy="copy", batch_size=500
        )
        transact(store, service.register_backfill, definition, change=SETUP)
        transact(store, service.claim_backfill, name, worker="worker-1", lease_seconds=3600,
                 change=SETUP)  # fmt: skip
        checkpoint = service.BackfillCheckpoint(
            job=name, at=store.clock.now(), worker="worker-1", last_key=str(rows_done),
            rows_done=rows_done, batch_rows=500, batch_size=500, batch_seconds=0.6,
        )  # fmt: skip
        progress = service.BackfillProgress(
            checkpoint=checkpoint, batches=rows_done // 500, rows_total=10_000,
            rows_per_second=830.0, eta_seconds=None if finished else 4.3,
        )  # fmt: skip
        transact(store, service.record_backfill_progress, name, progress, worker="worker-1",
                 lease_seconds=3600)  # fmt: skip
        if finished:
            transact(store, service.finish_backfill, name, worker="worker-1", status="completed",
                     change=SETUP)  # fmt: skip
            report = {"identical": True, "rows": 10_000, "checksum": "9f2c41d0"}
            transact(store, service.record_backfill_verify, name, report=report, change=SETUP)


def _check_run(store: SqlStore) -> None:
    now = store.clock.now()
    results = (
        CheckResult(name="database_schema", kind="sql", status=Status.PASS,
                    message="tables documents, orders exist"),
        CheckResult(name="backups", kind="file_age", status=Status.PASS,
                    message="newest backup is 2 h old"),
        CheckResult(name="monitoring", kind="http", status=Status.WARN,
                    message="dashboard answered in 1.8 s (warn above 1 s)"),
    )  # fmt: skip
    run = CheckRun(
        suite="preflight", results=results, source="cli", actor="alice",
        started_at=now - timedelta(seconds=3), finished_at=now,
    )  # fmt: skip
    transact(store, service.record_check_run, run)


def _heartbeat(revision: int) -> service.Heartbeat:
    return service.Heartbeat(
        instance_id="web-1", revision=revision, hostname="web-1", pid=4242, sdk="python/0.1.0"
    )


def metric_windows(percent: float, *, at: datetime) -> list[dict[str, object]]:
    """A second of healthy traffic in both arms from ``at``: 1.1 % errors against 1 %."""
    start = at.isoformat()
    size = int(400 * max(percent, 1))
    return [
        {"flag": "hybrid-search", "variant": variant, "metric": "http_errors", "start": start,
         "seconds": 1, "kind": "proportion", "n": size, "successes": size * per_mille // 1000}
        for variant, per_mille in (("on", 11), ("holdback", 10))
    ]  # fmt: skip
