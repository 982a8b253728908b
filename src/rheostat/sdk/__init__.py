"""The in-process SDK: a ``Client`` that holds the current ``FlagSet`` and evaluates locally."""

from rheostat.sdk.async_client import AsyncClient
from rheostat.sdk.client import Client, FlagsChanged
from rheostat.sdk.follow import ClientStatus, SyncOptions

__all__ = ["AsyncClient", "Client", "ClientStatus", "FlagsChanged", "SyncOptions"]
