"""One repository per aggregate. Repositories add and flush; they never commit."""

from rheostat.store.repositories.alerts import AlertRepository
from rheostat.store.repositories.api_keys import ApiKeyRepository
from rheostat.store.repositories.audit import AuditRepository
from rheostat.store.repositories.backfills import BackfillRepository
from rheostat.store.repositories.check_runs import CheckRunRepository
from rheostat.store.repositories.environments import EnvironmentRepository
from rheostat.store.repositories.experiments import (
    ArmExposures,
    ExperimentRepository,
    WindowTotals,
)
from rheostat.store.repositories.flags import FlagChange, FlagRepository, StoredFlag
from rheostat.store.repositories.metrics import MetricRepository
from rheostat.store.repositories.monitoring import EnvironmentDelivery, MonitoringRepository
from rheostat.store.repositories.parity_runs import ParityRunRepository
from rheostat.store.repositories.plans import PlanRepository
from rheostat.store.repositories.rollbacks import RollbackRepository
from rheostat.store.repositories.sdk_processes import SdkProcessRepository
from rheostat.store.repositories.segments import SegmentChange, SegmentRepository
from rheostat.store.repositories.webhooks import DeliveryOutcome, WebhookRepository

__all__ = [
    "AlertRepository",
    "ApiKeyRepository",
    "ArmExposures",
    "AuditRepository",
    "BackfillRepository",
    "CheckRunRepository",
    "DeliveryOutcome",
    "EnvironmentDelivery",
    "EnvironmentRepository",
    "ExperimentRepository",
    "FlagChange",
    "FlagRepository",
    "MetricRepository",
    "MonitoringRepository",
    "ParityRunRepository",
    "PlanRepository",
    "RollbackRepository",
    "SdkProcessRepository",
    "SegmentChange",
    "SegmentRepository",
    "StoredFlag",
    "WebhookRepository",
    "WindowTotals",
]
