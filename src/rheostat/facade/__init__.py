"""The seeds' class names as a thin facade over rheostat's services and engine."""

from rheostat.facade.experiments import ABTest, ABTestManager, TestResults, TestVariant
from rheostat.facade.flags import FeatureFlag, FeatureFlagManager
from rheostat.facade.preflight import CheckResult, PreRolloutChecker

__all__ = [
    "ABTest",
    "ABTestManager",
    "CheckResult",
    "FeatureFlag",
    "FeatureFlagManager",
    "PreRolloutChecker",
    "TestResults",
    "TestVariant",
]
