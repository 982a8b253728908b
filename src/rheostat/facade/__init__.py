"""The seeds' class names as a thin facade over rheostat's services and engine."""

from rheostat.facade.backfill import BackfillManager
from rheostat.facade.experiments import ABTest, ABTestManager, TestResults, TestVariant
from rheostat.facade.flags import FeatureFlag, FeatureFlagManager
from rheostat.facade.preflight import CheckResult, PreRolloutChecker
from rheostat.facade.rollbacks import RollbackManager, RollbackResult, RollbackStrategy
from rheostat.facade.rollouts import (
    RolloutManager,
    RolloutPhase,
    RolloutStatus,
    RolloutStrategy,
)

__all__ = [
    "ABTest",
    "ABTestManager",
    "BackfillManager",
    "CheckResult",
    "FeatureFlag",
    "FeatureFlagManager",
    "PreRolloutChecker",
    "RollbackManager",
    "RollbackResult",
    "RollbackStrategy",
    "RolloutManager",
    "RolloutPhase",
    "RolloutStatus",
    "RolloutStrategy",
    "TestResults",
    "TestVariant",
]
