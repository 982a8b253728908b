"""The seeds' class names as a thin facade over rheostat's services and engine."""

from rheostat.facade.backfill import BackfillManager
from rheostat.facade.experiments import ABTest, ABTestManager, TestResults, TestVariant
from rheostat.facade.flags import FeatureFlag, FeatureFlagManager

__all__ = [
    "ABTest",
    "ABTestManager",
    "BackfillManager",
    "FeatureFlag",
    "FeatureFlagManager",
    "TestResults",
    "TestVariant",
]
