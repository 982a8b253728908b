"""``transact``: one service call as one transaction, for scripts, notebooks and tests.

Edges that compose several calls open ``store.unit_of_work()`` themselves; this is the
shorthand for the common case of exactly one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from rheostat.store import SqlStore
from rheostat.store.unit_of_work import UnitOfWork

__all__ = ["transact"]

P = ParamSpec("P")
T = TypeVar("T")


def transact(
    store: SqlStore,
    operation: Callable[Concatenate[UnitOfWork, P], T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """Run ``operation(uow, *args, **kwargs)`` in a new read-write transaction and commit.

    Example::

        flag = transact(store, service.kill_flag, "production", "checkout",
                        change=Change(actor="ops", reason="5xx up"))
    """
    with store.unit_of_work() as uow:
        return operation(uow, *args, **kwargs)
