"""The OpenFeature provider: ``RheostatProvider`` evaluates OpenFeature flags with rheostat.

``openfeature.api.set_provider(RheostatProvider.connect(url=..., api_key=...))``; see
docs/openfeature.md.
"""

from rheostat.openfeature.provider import RheostatProvider

__all__ = ["RheostatProvider"]
