"""Persistence: the only package that imports SQLAlchemy.

``SqlStore`` owns the engine; ``SqlStore.unit_of_work()`` is one transaction whose repositories
add and flush, and which commits or rolls back at exit.
"""

from rheostat.store.database import SqlStore

__all__ = ["SqlStore"]
