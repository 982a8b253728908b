"""Table migrations with dual write, the pure part: stages and routing, parity, the document.

The application side (``rheostat.sdk.migrator.Migrator``) routes reads and writes by the
stage flags; the runner (``rheostat.runner.parity``) computes parity sums in the databases;
``rheostat.service.migrations`` stores parity runs, raises alerts and records gate metrics.
"""

from rheostat.migrate.document import (
    Migration,
    TableSide,
    load_migration,
    migration_from_dict,
    migration_from_text,
)
from rheostat.migrate.parity import (
    GroupParity,
    ParityAction,
    ParityLevel,
    ParityReport,
    ParityThresholds,
    assess_parity,
    classify,
)
from rheostat.migrate.stages import (
    FLAGGED_STAGES,
    Route,
    Stage,
    StoreSide,
    route,
    stage_flag_definitions,
    stage_flag_key,
    stage_flag_keys,
    stage_of,
    stage_salt,
)

__all__ = [
    "FLAGGED_STAGES",
    "GroupParity",
    "Migration",
    "ParityAction",
    "ParityLevel",
    "ParityReport",
    "ParityThresholds",
    "Route",
    "Stage",
    "StoreSide",
    "TableSide",
    "assess_parity",
    "classify",
    "load_migration",
    "migration_from_dict",
    "migration_from_text",
    "route",
    "stage_flag_definitions",
    "stage_flag_key",
    "stage_flag_keys",
    "stage_of",
    "stage_salt",
]
