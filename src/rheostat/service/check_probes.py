"""The store-backed check kinds: ``metric_baseline``, ``flags_defined``, ``plan_rollback`` and
``plan_gate_data``, plus the database kinds, gathered into a ``Registry``.

Each probe opens its own read-only transaction (``store.reading()``) in the check's thread:
a unit of work is one thread's, and a suite's checks run at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from rheostat.checks import CheckSpec, Finding, Probe, Registry
from rheostat.errors import NotFound, RheostatError
from rheostat.flags.edits import bool_variants, with_exposure
from rheostat.probes import outside_probes
from rheostat.rollout import HoldbackGate, Plan, ThresholdGate
from rheostat.service.flag_changes import live_flag, validate_flag
from rheostat.store.database import SqlStore
from rheostat.store.probes import database_probes, missing_tables
from rheostat.store.unit_of_work import UnitOfWork

__all__ = ["check_registry"]

_NOW_INCLUSIVE = timedelta(microseconds=1)
"""Metric windows are summed over ``[since, until)``; a window starting this instant counts."""


def check_registry(store: SqlStore) -> Registry:
    """Every built-in kind's probe; database checks without a ``url`` read ``store``'s database."""
    reading = _reader(store)
    return Registry(
        {
            **outside_probes(store.clock),
            **database_probes(store.url),
            "metric_baseline": reading(_metric_baseline),
            "flags_defined": reading(_flags_defined),
            "plan_rollback": reading(_plan_rollback),
            "plan_gate_data": reading(_plan_gate_data),
        }
    )


def _reader(
    store: SqlStore,
) -> Callable[[Callable[[UnitOfWork, SqlStore, CheckSpec], Finding]], Probe]:
    def wrap(probe: Callable[[UnitOfWork, SqlStore, CheckSpec], Finding]) -> Probe:
        def run(check: CheckSpec) -> Finding:
            try:
                with store.reading() as uow:
                    return probe(uow, store, check)
            except RheostatError as error:
                return Finding.failed(error.message, code=error.code)

        return run

    return wrap


def _metric_n(
    uow: UnitOfWork, environment: str, flag: str, metric: str, *, since: datetime
) -> dict[str, int]:
    totals = uow.metrics.totals(
        environment, flag, metric, since=since, until=uow.now + _NOW_INCLUSIVE
    )
    counts: dict[str, int] = {}
    for (variant, _), found in totals.items():
        counts[variant] = counts.get(variant, 0) + found.n
    return counts


def _metric_baseline(uow: UnitOfWork, store: SqlStore, check: CheckSpec) -> Finding:
    params = check.params
    within = float(params["within"])
    counts = _metric_n(
        uow,
        params["environment"],
        params["flag"],
        params["metric"],
        since=uow.now - timedelta(seconds=within),
    )
    variant = params.get("variant")
    n = counts.get(variant, 0) if variant else sum(counts.values())
    evidence = {"metric": params["metric"], "n": n, "by_variant": counts, "within_seconds": within}
    what = f"{params['metric']} of {params['flag']}" + (f" ({variant})" if variant else "")
    if n < params["min_n"]:
        return Finding.failed(
            f"{what} has {n} observations in the last {within:g}s, fewer than {params['min_n']}",
            **evidence,
        )
    return Finding.passed(f"{what} has {n} observations in the last {within:g}s", **evidence)


def _flags_defined(uow: UnitOfWork, store: SqlStore, check: CheckSpec) -> Finding:
    environment = check.params["environment"]
    missing, disabled = [], []
    for key in check.params["flags"]:
        stored = uow.flags.find(environment, key)
        if stored is None or stored.deleted:
            missing.append(key)
        elif check.params.get("enabled") and not stored.record.enabled:
            disabled.append(key)
    evidence = {"environment": environment, "missing": missing, "disabled": disabled}
    if missing or disabled:
        problems = [f"missing {', '.join(missing)}"] if missing else []
        problems += [f"killed {', '.join(disabled)}"] if disabled else []
        return Finding.failed(f"{environment}: {'; '.join(problems)}", **evidence)
    return Finding.passed(
        f"{environment}: all {len(check.params['flags'])} flags are defined", **evidence
    )


def _plan_rollback(uow: UnitOfWork, store: SqlStore, check: CheckSpec) -> Finding:
    environment, name = check.params["environment"], check.params["plan"]
    plan = _plan(uow, environment, name)
    flag = live_flag(uow, environment, plan.flag)
    bool_variants(flag.definition, plan.flag)
    validate_flag(uow, environment, plan.flag, with_exposure(flag.definition, plan.flag, percent=0))
    evidence: dict[str, Any] = {"flag": plan.flag, "version": flag.version}
    if flag.version > 1:
        previous = uow.flags.find_version(environment, plan.flag, flag.version - 1)
        if previous is None:
            return Finding.failed(f"version {flag.version - 1} of {plan.flag} is gone", **evidence)
        validate_flag(uow, environment, plan.flag, previous.definition)
        evidence["restorable_version"] = previous.version
    tables = list(check.params.get("tables") or [])
    if tables:
        url = check.params.get("url") or store.url
        absent = missing_tables(url, tables, check.timeout_seconds)
        evidence["tables"] = tables
        if absent:
            return Finding.failed(
                f"the old tables are gone: {', '.join(absent)}", missing_tables=absent, **evidence
            )
    restorable = evidence.get("restorable_version")
    restore = f"; version {restorable} restores" if restorable else ""
    return Finding.passed(f"{plan.flag} can be turned back to 0%{restore}", **evidence)


def _plan_gate_data(uow: UnitOfWork, store: SqlStore, check: CheckSpec) -> Finding:
    environment, name = check.params["environment"], check.params["plan"]
    plan = _plan(uow, environment, name)
    metrics = sorted(
        {
            gate.metric
            for gate in plan.gates
            if isinstance(gate, HoldbackGate)
            or (isinstance(gate, ThresholdGate) and gate.source == "builtin")
        }
    )
    within = float(check.params["within"])
    since = uow.now - timedelta(seconds=within)
    counts = {
        metric: sum(_metric_n(uow, environment, plan.flag, metric, since=since).values())
        for metric in metrics
    }
    empty = [metric for metric, n in counts.items() if n < check.params["min_n"]]
    evidence = {"plan": name, "metrics": counts, "within_seconds": within}
    if empty:
        return Finding.failed(
            f"no data in the last {within:g}s for gate metrics {', '.join(empty)}",
            empty=empty,
            **evidence,
        )
    if not metrics:
        return Finding.passed(f"plan {name} has no metric gates", **evidence)
    return Finding.passed(f"all {len(metrics)} gate metrics of {name} have data", **evidence)


def _plan(uow: UnitOfWork, environment: str, name: str) -> Plan:
    record = uow.plans.find(environment, name)
    if record is None:
        raise NotFound(f"plan {name!r} does not exist in environment {environment!r}")
    return record.state.plan
