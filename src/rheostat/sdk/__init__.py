"""The in-process SDK: a ``Client`` that holds the current ``FlagSet`` and evaluates locally."""

from rheostat.sdk.client import Client

__all__ = ["Client"]
