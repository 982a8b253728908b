"""What ``rheostat demo`` tells: the company, its flags, its two releases and its backfill.

Pure values, no I/O: the seeds' own features (hybrid search, the NER pipeline, async reports,
partitioned tables, the telemetry kill switches) as flags of two environments, a pilot
segment, two release plan documents with the traffic each one meets, and the backfill job of
seed 003. ``demo_seed``, ``demo_plans`` and ``demo_backfill`` carry it out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from rheostat.metrics import WindowKind
from rheostat.rollout import Plan, plan_from_text
from rheostat.rollout.state import Phase
from rheostat.simulate import MetricModel, Scenario, ScenarioKind

__all__ = [
    "BACKFILL_NAME",
    "BACKFILL_ROWS",
    "ENVIRONMENTS",
    "FLAGS",
    "KILL_SWITCH",
    "PILOT_ORGS",
    "PRODUCTION",
    "RELEASES",
    "SEGMENTS",
    "SIMULATED_MINUTE",
    "Release",
    "SeedFlag",
    "backfill_document",
]

PRODUCTION = "production"
ENVIRONMENTS: Mapping[str, str] = {
    "staging": "Staging: every change is rehearsed here first",
    PRODUCTION: "Production",
}

PILOT_ORGS = ("org-17", "org-42", "org-108", "org-256", "org-512")
"""Seed 003's production pilot: small, low-risk organisations first."""

SEGMENTS: Mapping[str, Mapping[str, Any]] = {
    "pilot-orgs": {
        "description": "Pilot organisations (seed 003: small, low-risk orgs go first)",
        "conditions": [{"attribute": "org_id", "op": "in", "values": list(PILOT_ORGS)}],
    },
}


@dataclass(frozen=True, slots=True, kw_only=True)
class SeedFlag:
    """One flag of the scenario, as production has it. Staging runs ahead: a flag that
    production is about to ramp (``ahead_in_staging``) is on for everyone there."""

    key: str
    production: Mapping[str, Any]
    ahead_in_staging: bool = False

    def definition(self, environment: str) -> Mapping[str, Any]:
        """The flag's definition in ``environment``."""
        if self.ahead_in_staging and environment != PRODUCTION:
            return {**self.production, "rules": [_split(100)]}
        return self.production


def _split(percent: float) -> dict[str, Any]:
    return {"serve": {"split": {"on": percent, "off": round(100 - percent, 3)}}}


def _pilot() -> dict[str, Any]:
    return {
        "name": "pilot",
        "when": [{"attribute": "org_id", "op": "in_segment", "values": ["pilot-orgs"]}],
        "serve": "on",
    }


def _flag(description: str, *rules: Mapping[str, Any], **fields: Any) -> dict[str, Any]:
    return {"description": description, "rules": list(rules), **fields}


_STAFF = {"variant": "on", "groups": ["staff"]}

FLAGS: tuple[SeedFlag, ...] = (
    SeedFlag(
        key="hybrid_search",
        production=_flag("Hybrid search, BM25 + pgvector (000)"),
        ahead_in_staging=True,
    ),
    SeedFlag(
        key="search_backend",
        production=_flag(
            "Search backend: pgvector|hybrid (000)",
            targets=[{"variant": "hybrid", "groups": ["staff"]}],
            variants={"pgvector": "pgvector", "hybrid": "hybrid"},
            default="pgvector",
        ),
    ),
    SeedFlag(key="semantic_cache", production=_flag("Semantic cache (000)", _split(25))),
    SeedFlag(
        key="table_extraction",
        production=_flag("Table extraction from PDFs (000)", _pilot()),
    ),
    SeedFlag(
        key="source_highlighting",
        production=_flag("Source highlighting (000)", _split(100)),
    ),
    SeedFlag(
        key="new_ner_model",
        production=_flag("New BioBERT NER model (001)", _split(10), targets=[_STAFF]),
    ),
    SeedFlag(
        key="dynamic_ner_models",
        production=_flag("NER model chosen per domain (001)", targets=[_STAFF]),
    ),
    SeedFlag(key="kb_enrichment", production=_flag("Knowledge-base enrichment (001)")),
    SeedFlag(
        key="async_reports",
        production=_flag("Async report processing (002)"),
        ahead_in_staging=True,
    ),
    SeedFlag(
        key="use_partitioned_tables",
        production=_flag("Partitioned finance tables (003)", _pilot(), _split(1)),
    ),
    SeedFlag(key="phase6_metrics", production=_flag("Phase 6 token telemetry (004)")),
    SeedFlag(
        key="consolidated_metrics",
        production=_flag("Consolidated metrics endpoint (004)", _split(100)),
    ),
)

KILL_SWITCH = ("consolidated_metrics", "it double-counts tokens: off until the fix (seed 004)")
"""The flag killed in production, and why."""

SIMULATED_MINUTE = timedelta(minutes=1)
"""Simulated time per controller pass: one metric window per arm, as the SDKs send them."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Release:
    """A release plan and the world it meets.

    Attributes:
        document: the plan document (YAML), as a team would commit it.
        story: what happens, in one line.
        models: how each gate metric behaves without the change.
        scenario: what the change does to the treatment (``rheostat.simulate``).
        expected: how the plan should end (the demo says so if it does not).
        requests_per_minute: requests at 100 % exposure, per simulated minute.
    """

    document: str
    story: str
    models: tuple[MetricModel, ...]
    scenario: Scenario
    expected: Phase
    requests_per_minute: int = 20_000

    @property
    def plan(self) -> Plan:
        """The plan the document describes."""
        return plan_from_text(self.document, name_hint=f"{self.story}.yaml")


_HYBRID_SEARCH = """\
plan: hybrid-search
flag: hybrid_search
environment: production
stages:
  - check: [plan_rollback, plan_gate_data]
  - ramp: {percent: 1, bake: 30m, holdback: true}
  - ramp: {percent: 5, bake: 30m, holdback: true}
  - ramp: {percent: 25, bake: 30m, holdback: true}
  - ramp: {percent: 50, bake: 30m, holdback: true}
  - ramp: {percent: 100}
  - monitor: {for: 30m}
gates:
  - {metric: search_errors, compare: holdback, worse: higher, tolerance: 0.002, mode: rollback}
  - {metric: search_latency_ms, compare: holdback, worse: higher, tolerance: 25, mode: pause}
on_failure: {rollback: immediate}
"""

_ASYNC_REPORTS = """\
plan: async-reports
flag: async_reports
environment: production
strategy: canary          # 1, 5, 10, 25, 50, 100 %, each with an equal-size holdback up to 50 %
bake: 30m
gates:
  - {metric: report_errors, compare: holdback, worse: higher, tolerance: 0.002, mode: rollback}
  - {metric: report_latency_ms, compare: holdback, worse: higher, tolerance: 50, mode: pause}
on_failure: {rollback: immediate}
"""

RELEASES: tuple[Release, ...] = (
    Release(
        document=_HYBRID_SEARCH,
        story="hybrid search is healthy: it should reach 100 %",
        models=(
            MetricModel(name="search_errors", kind=WindowKind.PROPORTION, mean=0.01),
            MetricModel(name="search_latency_ms", kind=WindowKind.MEAN, mean=180.0, sd=60.0),
        ),
        scenario=Scenario(kind=ScenarioKind.HEALTHY),
        expected=Phase.COMPLETED,
    ),
    Release(
        document=_ASYNC_REPORTS,
        story="async reports fail twice as often from 25 % on: it should roll itself back",
        models=(
            MetricModel(name="report_errors", kind=WindowKind.PROPORTION, mean=0.01),
            MetricModel(name="report_latency_ms", kind=WindowKind.MEAN, mean=900.0, sd=300.0),
        ),
        scenario=Scenario(kind=ScenarioKind.ERRORS, at_stage=3, effect=2.0),
        expected=Phase.ROLLED_BACK,
    ),
)

BACKFILL_NAME = "revenue-to-partitioned"
BACKFILL_ROWS = 60_000
"""Rows of seed 003's ``revenue_transactions`` to copy into the partitioned table."""


def backfill_document(app_database_url: str) -> dict[str, Any]:
    """Seed 003's backfill: legacy revenue rows into the monthly-partitioned table."""
    return {
        "backfill": BACKFILL_NAME,
        "source": {"url": app_database_url, "table": "revenue_transactions", "key": "id"},
        "target": {
            "url": app_database_url,
            "table": "revenue_transactions_partitioned",
            "key": "id",
        },
        "columns": {
            "id": "id",
            "org_id": "org_id",
            "amount_cents": "amount_cents",
            "currency": "currency",
            "created_at": "created_at",
            "month": "substr(created_at, 1, 7)",
        },
        "batch": {"size": 2_000, "target_seconds": 0},
    }
