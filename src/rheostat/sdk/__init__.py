"""The in-process SDK: a ``Client`` that holds the current ``FlagSet`` and evaluates locally,
and the ``Migrator`` that routes a table migration's reads and writes by its stage flags."""

from rheostat.sdk.async_client import AsyncClient
from rheostat.sdk.client import Client, FlagsChanged
from rheostat.sdk.follow import ClientStatus, SyncOptions
from rheostat.sdk.migrator import Migrator, Mismatch

__all__ = [
    "AsyncClient",
    "Client",
    "ClientStatus",
    "FlagsChanged",
    "Migrator",
    "Mismatch",
    "SyncOptions",
]
