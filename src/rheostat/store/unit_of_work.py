"""``UnitOfWork``: the repositories of one transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from rheostat.store.repositories import (
    ApiKeyRepository,
    AuditRepository,
    EnvironmentRepository,
    ExperimentRepository,
    FlagRepository,
    SegmentRepository,
)

__all__ = ["UnitOfWork"]


class UnitOfWork:
    """Repositories sharing one session; ``SqlStore.unit_of_work`` commits or rolls back.

    Attributes:
        now: the time of this transaction, from the store's clock (one value for all its
            audit events and versions).
        changed_environments: environments whose flags or segments this transaction changed;
            the store tells its change listeners after commit.
    """

    def __init__(self, session: Session, *, now: datetime) -> None:
        self.session = session
        self.now = now
        self.environments = EnvironmentRepository(session)
        self.flags = FlagRepository(session, self.environments)
        self.segments = SegmentRepository(session, self.environments)
        self.api_keys = ApiKeyRepository(session, self.environments)
        self.audit = AuditRepository(session)
        self.experiments = ExperimentRepository(session, self.environments)
        self.changed_environments: set[str] = set()
        self._after_commit: list[Callable[[], None]] = []

    def mark_changed(self, environment: str) -> None:
        """Note that ``environment``'s flag set changes when this transaction commits."""
        self.changed_environments.add(environment)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the transaction has committed (never if it rolls back)."""
        self._after_commit.append(callback)

    def run_after_commit(self) -> None:
        """Run the callbacks registered with ``after_commit``, in order."""
        for callback in self._after_commit:
            callback()
