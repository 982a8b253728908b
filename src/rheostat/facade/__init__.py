"""The seeds' class names as a thin facade over rheostat's services and engine."""

from rheostat.facade.flags import FeatureFlag, FeatureFlagManager

__all__ = ["FeatureFlag", "FeatureFlagManager"]
