"""``UnitOfWork``: the repositories of one transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from rheostat.clock import Clock
from rheostat.store.operations_records import OutboxEvent
from rheostat.store.repositories import (
    AlertRepository,
    ApiKeyRepository,
    AuditRepository,
    BackfillRepository,
    CheckRunRepository,
    EnvironmentRepository,
    ExperimentRepository,
    FlagRepository,
    MetricRepository,
    MonitoringRepository,
    ParityRunRepository,
    PlanRepository,
    RollbackRepository,
    SdkProcessRepository,
    SegmentRepository,
    WebhookRepository,
)

__all__ = ["UnitOfWork"]


class UnitOfWork:
    """Repositories sharing one session; ``SqlStore.unit_of_work`` commits or rolls back.

    Attributes:
        read_only: opened with ``SqlStore.reading``: a write in it fails.
        changed_environments: environments whose flags or segments this transaction changed;
            the store tells its change listeners after commit.
        events: events emitted in this transaction (``service.emit_event``), for the store's
            event listeners after commit.
    """

    def __init__(self, session: Session, *, clock: Clock, read_only: bool = False) -> None:
        self.session = session
        self.read_only = read_only
        self._clock = clock
        self._now: datetime | None = None
        self.environments = EnvironmentRepository(session)
        self.flags = FlagRepository(session, self.environments)
        self.segments = SegmentRepository(session, self.environments)
        self.api_keys = ApiKeyRepository(session, self.environments)
        self.audit = AuditRepository(session)
        self.experiments = ExperimentRepository(session, self.environments)
        self.metrics = MetricRepository(session, self.environments)
        self.plans = PlanRepository(session, self.environments)
        self.sdk_processes = SdkProcessRepository(session, self.environments)
        self.backfills = BackfillRepository(session)
        self.rollbacks = RollbackRepository(session)
        self.webhooks = WebhookRepository(session)
        self.alerts = AlertRepository(session)
        self.events: list[OutboxEvent] = []
        """Events this transaction emitted; the store hands them to its event listeners
        (in-process hooks) after commit. Webhooks get them from the outbox instead."""
        self.check_runs = CheckRunRepository(session)
        self.parity_runs = ParityRunRepository(session)
        self.monitoring = MonitoringRepository(session)
        self.changed_environments: set[str] = set()
        self._after_commit: list[Callable[[], None]] = []

    @property
    def now(self) -> datetime:
        """The time of this transaction: one value for all its audit events, versions and rows.

        Read from the store's clock the first time it is asked for, so that a transaction
        that first waits for a lock (SQLite's write lock, a locked row on PostgreSQL) is
        stamped once it holds it: a writer that commits after another is never stamped before
        it for lack of having waited. Take the locks before asking for ``now``.
        """
        if self._now is None:
            self._now = self._clock.now()
        return self._now

    def mark_changed(self, environment: str) -> None:
        """Note that ``environment``'s flag set changes when this transaction commits.

        The first time per transaction it also raises the environment's revision, in the same
        transaction, so a revision names exactly one committed state of its flags.
        """
        if environment not in self.changed_environments:
            self.environments.bump_revision(environment)
        self.changed_environments.add(environment)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the transaction has committed (never if it rolls back)."""
        self._after_commit.append(callback)

    def run_after_commit(self) -> None:
        """Run the callbacks registered with ``after_commit``, in order."""
        for callback in self._after_commit:
            callback()
