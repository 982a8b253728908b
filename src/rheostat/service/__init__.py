"""Application services: the one layer the CLI, the HTTP API and the dashboard call.

Every function takes the ``SqlStore`` first, runs as one transaction (committed on success,
rolled back on any error) and raises only ``rheostat.errors`` subclasses. Functions that change
state take a keyword-only ``actor`` and optional ``reason`` and write an audit event in the same
transaction. Updates name the version they read (``expected_version``); a stale one raises
``Conflict`` and changes nothing.
"""

from rheostat.service.api_keys import (
    authenticate,
    authorize,
    create_api_key,
    get_api_key,
    list_api_keys,
    revoke_api_key,
)
from rheostat.service.audit import list_audit_events
from rheostat.service.database import migrate_database, normalize_database_url, open_store
from rheostat.service.environments import (
    create_environment,
    delete_environment,
    get_environment,
    list_environments,
    update_environment,
)
from rheostat.service.flags import (
    add_flag_targets,
    create_flag,
    delete_flag,
    disable_flag,
    enable_flag,
    find_flag,
    flag_history,
    get_flag,
    get_flag_version,
    kill_flag,
    list_flags,
    remove_flag_targets,
    restore_flag,
    set_rollout_percentage,
    update_flag,
)
from rheostat.service.health import Health, HealthStatus, check_health
from rheostat.service.portability import ImportMode, ImportResult, export_flags, import_flags
from rheostat.service.segments import (
    create_segment,
    delete_segment,
    get_segment,
    list_segments,
    update_segment,
)
from rheostat.service.status import (
    FlagState,
    FlagStats,
    RolloutStatus,
    Snapshot,
    flag_stats,
    rollout_status,
    snapshot,
)
from rheostat.store import SqlStore
from rheostat.store.records import (
    ApiKey,
    ApiKeyScope,
    AuditAction,
    AuditEvent,
    CreatedApiKey,
    Environment,
    FlagRecord,
    FlagVersion,
    SegmentRecord,
)

__all__ = [
    "ApiKey",
    "ApiKeyScope",
    "AuditAction",
    "AuditEvent",
    "CreatedApiKey",
    "Environment",
    "FlagRecord",
    "FlagState",
    "FlagStats",
    "FlagVersion",
    "Health",
    "HealthStatus",
    "ImportMode",
    "ImportResult",
    "RolloutStatus",
    "SegmentRecord",
    "Snapshot",
    "SqlStore",
    "add_flag_targets",
    "authenticate",
    "authorize",
    "check_health",
    "create_api_key",
    "create_environment",
    "create_flag",
    "create_segment",
    "delete_environment",
    "delete_flag",
    "delete_segment",
    "disable_flag",
    "enable_flag",
    "export_flags",
    "find_flag",
    "flag_history",
    "flag_stats",
    "get_api_key",
    "get_environment",
    "get_flag",
    "get_flag_version",
    "get_segment",
    "import_flags",
    "kill_flag",
    "list_api_keys",
    "list_audit_events",
    "list_environments",
    "list_flags",
    "list_segments",
    "migrate_database",
    "normalize_database_url",
    "open_store",
    "remove_flag_targets",
    "restore_flag",
    "revoke_api_key",
    "rollout_status",
    "set_rollout_percentage",
    "snapshot",
    "update_environment",
    "update_flag",
    "update_segment",
]
