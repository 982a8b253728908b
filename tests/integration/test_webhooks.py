"""Webhooks and their outbox (issue 10): signed deliveries to a real HTTP receiver on
127.0.0.1, retried with backoff, every attempt logged, nothing lost between commit and send,
and never sent twice at once by two dispatchers. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import text

from rheostat import service
from rheostat.clock import FixedClock
from rheostat.service import (
    Change,
    DeliveryStatus,
    DispatchPolicy,
    RollbackMode,
    RollbackRequest,
    SqlStore,
    transact,
)
from rheostat.webhook_signatures import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify_signature,
)

ENV = "production"
FLAG = "hybrid_search"
SECRET = "a-secret-of-32-characters-long!!"  # noqa: S105  # a test secret
KILL = RollbackRequest(mode=RollbackMode.IMMEDIATE)
OPS = Change(actor="oncall", reason="5xx up")


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A real HTTP server that records each POST and answers the next scripted status."""

    url: str
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, headers: dict[str, str], body: bytes) -> int:
        with self.lock:
            self.received.append(Received(headers=headers, body=body))
            return self.statuses.pop(0) if self.statuses else 200


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    holder: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = holder[0].answer(dict(self.headers.items()), body)
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_: object) -> None:  # keep the test output quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder.append(Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hook"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield holder[0]
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def flagged(store: SqlStore) -> SqlStore:
    transact(store, service.create_environment, ENV, change=Change(actor="setup"))
    transact(store, service.create_flag, ENV, FLAG, {}, change=Change(actor="setup"))
    transact(store, service.set_rollout_percentage, ENV, FLAG, 40, change=Change(actor="setup"))
    return store


def _hook(store: SqlStore, url: str, **options: object) -> str:
    created = transact(
        store, service.create_webhook, url, secret=SECRET, change=Change(actor="ops"), **options
    )
    return created.webhook.id


def test_a_rollback_is_delivered_signed_after_commit(
    flagged: SqlStore, receiver: Receiver, clock: FixedClock
) -> None:
    # Given a webhook for rollback events
    hook = _hook(flagged, receiver.url, events=["rollback.*"])

    # When a flag is rolled back: the outbox holds the events, nothing is sent yet
    record = transact(flagged, service.rollback_flag, ENV, FLAG, KILL, change=OPS)
    pending = transact(flagged, service.webhook_deliveries, hook)
    assert [d.status for d in pending] == [DeliveryStatus.PENDING] * 2
    assert receiver.received == []

    # ... and then the dispatcher runs
    report = service.deliver_webhooks(flagged)

    # Then both events arrived, signed with the webhook's secret and a fresh timestamp
    assert report.delivered == 2
    types = [json.loads(r.body)["type"] for r in receiver.received]
    assert types == ["rollback.started", "rollback.completed"]
    first = receiver.received[0]
    assert verify_signature(
        SECRET,
        first.body,
        signature=first.headers[SIGNATURE_HEADER],
        timestamp=first.headers[TIMESTAMP_HEADER],
        now=clock.now().timestamp(),
    )
    assert not verify_signature(
        "another-secret-of-some-length",
        first.body,
        signature=first.headers[SIGNATURE_HEADER],
        timestamp=first.headers[TIMESTAMP_HEADER],
        now=clock.now().timestamp(),
    )
    assert first.headers[EVENT_HEADER] == "rollback.started"
    payload = json.loads(first.body)
    assert payload["data"]["rollback"] == record.id
    assert payload["data"]["mode"] == "immediate"
    log = transact(flagged, service.webhook_deliveries, hook)
    assert {d.status for d in log} == {DeliveryStatus.DELIVERED}
    assert all([a.status_code for a in d.log] == [200] for d in log)
    assert service.deliver_webhooks(flagged).claimed == 0


def test_a_failing_receiver_is_retried_with_backoff_and_every_attempt_logged(
    flagged: SqlStore, receiver: Receiver, clock: FixedClock
) -> None:
    # Given a receiver that fails twice, then accepts
    hook = _hook(flagged, receiver.url, events=["rollback.started"])
    receiver.statuses = [500, 503]
    transact(flagged, service.rollback_flag, ENV, FLAG, KILL, change=OPS)
    policy = DispatchPolicy(base_delay=timedelta(seconds=10))

    # When the dispatcher runs: the first attempt fails and is not retried before its time
    service.deliver_webhooks(flagged, policy)
    first = transact(flagged, service.webhook_deliveries, hook)[0]
    wait = first.next_attempt_at - clock.now()
    assert timedelta(seconds=5) <= wait < timedelta(seconds=10)
    assert service.deliver_webhooks(flagged, policy).claimed == 0
    clock.advance(timedelta(seconds=10))
    service.deliver_webhooks(flagged, policy)
    second = transact(flagged, service.webhook_deliveries, hook)[0]
    wait = second.next_attempt_at - clock.now()
    assert timedelta(seconds=10) <= wait < timedelta(seconds=20)
    clock.advance(timedelta(seconds=20))
    service.deliver_webhooks(flagged, policy)

    # Then the third attempt delivered it, and the log has all three
    delivery = transact(flagged, service.webhook_deliveries, hook)[0]
    assert delivery.status is DeliveryStatus.DELIVERED
    assert [(a.attempt, a.status_code) for a in delivery.log] == [(1, 500), (2, 503), (3, 200)]
    assert delivery.log[0].error is not None
    assert len({r.headers[DELIVERY_HEADER] for r in receiver.received}) == 1
    assert len({json.loads(r.body)["id"] for r in receiver.received}) == 1


def test_a_delivery_fails_after_its_last_attempt(
    flagged: SqlStore, receiver: Receiver, clock: FixedClock
) -> None:
    hook = _hook(flagged, receiver.url, events=["rollback.started"])
    receiver.statuses = [500] * 10
    transact(flagged, service.rollback_flag, ENV, FLAG, KILL, change=OPS)
    policy = DispatchPolicy(max_attempts=3, base_delay=timedelta(seconds=1))
    for _ in range(6):
        service.deliver_webhooks(flagged, policy)
        clock.advance(timedelta(minutes=1))
    delivery = transact(flagged, service.webhook_deliveries, hook)[0]
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.attempts == 3
    assert len(receiver.received) == 3


def test_an_unreachable_receiver_is_an_attempt_in_the_log_not_an_error(
    flagged: SqlStore, receiver: Receiver
) -> None:
    # Given a webhook on a port nobody listens on
    closed = receiver.url.replace("/hook", "").rsplit(":", 1)[0] + ":9/hook"
    hook = _hook(flagged, closed, events=["rollback.started"])
    transact(flagged, service.rollback_flag, ENV, FLAG, KILL, change=OPS)

    # When / Then the pass does not raise and logs the error
    report = service.deliver_webhooks(flagged, DispatchPolicy(timeout_s=2.0))
    assert report.retrying == 1
    delivery = transact(flagged, service.webhook_deliveries, hook)[0]
    assert delivery.log[0].status_code is None
    assert "Error" in (delivery.log[0].error or "")


def test_a_dispatcher_that_dies_after_claiming_loses_nothing(
    flagged: SqlStore, receiver: Receiver, clock: FixedClock
) -> None:
    # Given a committed rollback whose delivery a dispatcher claimed, then died before sending
    _hook(flagged, receiver.url, events=["rollback.started"])
    transact(flagged, service.rollback_flag, ENV, FLAG, KILL, change=OPS)
    policy = DispatchPolicy(lease=timedelta(minutes=2))
    with flagged.unit_of_work() as uow:
        assert len(uow.webhooks.claim(uow.now, lease=policy.lease, limit=10)) == 1

    # When other passes run: not while the lease holds, then once it ran out
    assert service.deliver_webhooks(flagged, policy).claimed == 0
    clock.advance(timedelta(minutes=2))
    report = service.deliver_webhooks(flagged, policy)

    # Then it was sent, once
    assert report.delivered == 1
    assert len(receiver.received) == 1


def test_a_change_rolled_back_writes_no_delivery(flagged: SqlStore, receiver: Receiver) -> None:
    hook = _hook(flagged, receiver.url)

    def crash() -> None:
        with flagged.unit_of_work() as uow:
            service.rollback_flag(uow, ENV, FLAG, KILL, change=OPS)
            raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError):
        crash()
    assert transact(flagged, service.webhook_deliveries, hook) == []
    assert service.deliver_webhooks(flagged).claimed == 0


def test_filters_choose_the_events_and_removal_stops_deliveries(
    flagged: SqlStore, receiver: Receiver
) -> None:
    # Given hooks for alerts only, for another environment, and for everything
    transact(flagged, service.create_environment, "staging", change=Change(actor="setup"))
    alerts_only = _hook(flagged, receiver.url, events=["alert.*"])
    staging = _hook(flagged, receiver.url, environment="staging")
    everything = _hook(flagged, receiver.url)
    removed = _hook(flagged, receiver.url)
    transact(flagged, service.remove_webhook, removed, change=Change(actor="ops"))

    # When a production flag is rolled back
    transact(flagged, service.rollback_flag, ENV, FLAG, KILL, change=OPS)

    # Then only the catch-all hook gets it
    assert transact(flagged, service.webhook_deliveries, alerts_only) == []
    assert transact(flagged, service.webhook_deliveries, staging) == []
    assert transact(flagged, service.webhook_deliveries, removed) == []
    assert len(transact(flagged, service.webhook_deliveries, everything)) == 2
    assert [w.id for w in transact(flagged, service.list_webhooks)] == [
        alerts_only,
        staging,
        everything,
    ]


def test_two_dispatchers_racing_send_each_delivery_once(
    flagged: SqlStore, receiver: Receiver, store_url: str, clock: FixedClock
) -> None:
    # Given 30 pending deliveries (15 rollbacks, 2 events each)
    _hook(flagged, receiver.url)
    for _ in range(15):
        transact(flagged, service.rollback_flag, ENV, FLAG, KILL, change=OPS)
    other = service.open_store(store_url, clock=clock)
    policy = DispatchPolicy(batch=4)

    # When two dispatchers (two stores, two connection pools) drain it at the same time
    def drain(store: SqlStore) -> None:
        while service.deliver_webhooks(store, policy).claimed:
            pass

    try:
        threads = [threading.Thread(target=drain, args=(s,)) for s in (flagged, other)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        other.close()

    # Then every delivery arrived exactly once
    ids = [r.headers[DELIVERY_HEADER] for r in receiver.received]
    assert len(ids) == 30
    assert len(set(ids)) == 30


@pytest.mark.postgres
def test_a_claim_skips_rows_another_dispatcher_holds(
    postgres_url: str, receiver: Receiver, clock: FixedClock
) -> None:
    # Given two pending deliveries on PostgreSQL
    service.migrate_database(postgres_url)
    first, second = (service.open_store(postgres_url, clock=clock) for _ in range(2))
    try:
        transact(first, service.create_environment, ENV, change=Change(actor="setup"))
        transact(first, service.create_flag, ENV, FLAG, {}, change=Change(actor="setup"))
        _hook(first, receiver.url)
        transact(first, service.rollback_flag, ENV, FLAG, KILL, change=OPS)

        # When one dispatcher holds one row in an open transaction
        with first.unit_of_work() as holding:
            held = holding.webhooks.claim(holding.now, lease=timedelta(minutes=1), limit=1)
            # Then the other, at the same moment, skips it instead of waiting or taking it
            with second.unit_of_work() as racing:
                # without SKIP LOCKED this would wait for the lock: fail fast instead of hang
                racing.session.execute(text("SET LOCAL lock_timeout = '2s'"))
                taken = racing.webhooks.claim(racing.now, lease=timedelta(minutes=1), limit=5)
        assert len(held) == 1
        assert len(taken) == 1
        assert taken[0].id != held[0].id
    finally:
        first.close()
        second.close()
