"""Application services: the one layer the CLI, the HTTP API and the dashboard call.

Every function takes the caller's transaction (a ``UnitOfWork``) first and raises only
``rheostat.errors`` subclasses; the edge (an HTTP request, a CLI command, a controller tick)
opens it, calls as many services as its change needs, and commits once::

    with store.unit_of_work() as uow:            # store.reading() for reads
        service.set_rollout_percentage(uow, "production", "checkout", 5, change=change)
        ...                                      # more changes: all or nothing

Functions that change state take a keyword-only ``Change`` (actor, reason, expected version)
and write an audit event in the same transaction; change listeners run after the commit.
Updates that name the version they read get ``Conflict`` when it is stale, and nothing changes.
``check_health`` is the one exception: a probe that takes the store and never raises; and
``run_checks`` / ``run_check_stage`` take the store too, since a suite runs longer than a
transaction should stay open (they store the finished run in a transaction of their own).
"""

from rheostat.flags.summary import FlagState
from rheostat.service.api_keys import (
    authenticate,
    authorize,
    create_api_key,
    get_api_key,
    list_api_keys,
    revoke_api_key,
)
from rheostat.service.audit import list_audit_events
from rheostat.service.change import Change
from rheostat.service.check_probes import check_registry
from rheostat.service.check_runs import (
    RunOrigin,
    get_check_run,
    list_check_runs,
    load_suite_file,
    record_check_run,
    run_checks,
)
from rheostat.service.check_stages import (
    check_stage_verdict,
    run_check_stage,
    run_stages,
    run_tick_checks,
    stage_suite,
)
from rheostat.service.controller import (
    Look,
    active_plans,
    apply_observation,
    claim_plans,
    observe_plan,
    release_plans,
    stage_work,
    tick_plan,
)
from rheostat.service.database import migrate_database, normalize_database_url, open_store
from rheostat.service.environments import (
    create_environment,
    delete_environment,
    get_environment,
    list_environments,
    update_environment,
)
from rheostat.service.experiment_results import (
    ResultsReport,
    experiment_results,
    list_experiment_results,
    load_analysis,
)
from rheostat.service.experiment_traffic import (
    Assignment,
    AssignmentFlags,
    Conversion,
    Exposure,
    MetricEvent,
    Receipt,
    assign_unit,
    assignment_flags_of,
    record_conversions,
    record_exposures,
    record_metrics,
)
from rheostat.service.experiments import (
    ExperimentChanges,
    create_experiment,
    get_experiment,
    list_experiments,
    start_experiment,
    stop_experiment,
    update_experiment,
)
from rheostat.service.flags import (
    add_flag_targets,
    create_flag,
    delete_flag,
    disable_flag,
    edit_flag,
    enable_flag,
    find_flag,
    flag_history,
    get_flag,
    get_flag_version,
    kill_flag,
    list_flags,
    put_flag,
    remove_flag_targets,
    restore_flag,
    set_rollout_percentage,
    update_flag,
)
from rheostat.service.health import Health, HealthStatus, check_health
from rheostat.service.metric_windows import MetricReceipt, metric_totals, record_metric_windows
from rheostat.service.plans import (
    TickReport,
    command_plan,
    create_plan,
    get_plan,
    list_plans,
    plan_events,
    plan_status_document,
    reconcile,
)
from rheostat.service.portability import ImportMode, ImportResult, export_flags, import_flags
from rheostat.service.prometheus import MetricSources, query_prometheus
from rheostat.service.segments import (
    create_segment,
    delete_segment,
    get_segment,
    list_segments,
    segment_history,
    update_segment,
)
from rheostat.service.snapshots import Snapshot, SnapshotCache, snapshot
from rheostat.service.status import (
    FlagStats,
    FlagSummary,
    flag_stats,
    flag_summaries,
)
from rheostat.service.transact import transact
from rheostat.store import SqlStore
from rheostat.store.records import (
    ApiKey,
    ApiKeyScope,
    AuditAction,
    AuditEvent,
    CreatedApiKey,
    Environment,
    ExperimentRecord,
    FlagRecord,
    FlagVersion,
    PlanEvent,
    PlanRecord,
    SegmentRecord,
    SegmentVersion,
    StoredResults,
)
from rheostat.store.unit_of_work import UnitOfWork

__all__ = [
    "ApiKey",
    "ApiKeyScope",
    "Assignment",
    "AssignmentFlags",
    "AuditAction",
    "AuditEvent",
    "Change",
    "Conversion",
    "CreatedApiKey",
    "Environment",
    "ExperimentChanges",
    "ExperimentRecord",
    "Exposure",
    "FlagRecord",
    "FlagState",
    "FlagStats",
    "FlagSummary",
    "FlagVersion",
    "Health",
    "HealthStatus",
    "ImportMode",
    "ImportResult",
    "Look",
    "MetricEvent",
    "MetricReceipt",
    "MetricSources",
    "PlanEvent",
    "PlanRecord",
    "Receipt",
    "ResultsReport",
    "RunOrigin",
    "SegmentRecord",
    "SegmentVersion",
    "Snapshot",
    "SnapshotCache",
    "SqlStore",
    "StoredResults",
    "TickReport",
    "UnitOfWork",
    "active_plans",
    "add_flag_targets",
    "apply_observation",
    "assign_unit",
    "assignment_flags_of",
    "authenticate",
    "authorize",
    "check_health",
    "check_registry",
    "check_stage_verdict",
    "claim_plans",
    "command_plan",
    "create_api_key",
    "create_environment",
    "create_experiment",
    "create_flag",
    "create_plan",
    "create_segment",
    "delete_environment",
    "delete_flag",
    "delete_segment",
    "disable_flag",
    "edit_flag",
    "enable_flag",
    "experiment_results",
    "export_flags",
    "find_flag",
    "flag_history",
    "flag_stats",
    "flag_summaries",
    "get_api_key",
    "get_check_run",
    "get_environment",
    "get_experiment",
    "get_flag",
    "get_flag_version",
    "get_plan",
    "get_segment",
    "import_flags",
    "kill_flag",
    "list_api_keys",
    "list_audit_events",
    "list_check_runs",
    "list_environments",
    "list_experiment_results",
    "list_experiments",
    "list_flags",
    "list_plans",
    "list_segments",
    "load_analysis",
    "load_suite_file",
    "metric_totals",
    "migrate_database",
    "normalize_database_url",
    "observe_plan",
    "open_store",
    "plan_events",
    "plan_status_document",
    "put_flag",
    "query_prometheus",
    "reconcile",
    "record_check_run",
    "record_conversions",
    "record_exposures",
    "record_metric_windows",
    "record_metrics",
    "release_plans",
    "remove_flag_targets",
    "restore_flag",
    "revoke_api_key",
    "run_check_stage",
    "run_checks",
    "run_stages",
    "run_tick_checks",
    "segment_history",
    "set_rollout_percentage",
    "snapshot",
    "stage_suite",
    "stage_work",
    "start_experiment",
    "stop_experiment",
    "tick_plan",
    "transact",
    "update_environment",
    "update_experiment",
    "update_flag",
    "update_segment",
]
