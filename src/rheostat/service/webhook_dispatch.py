"""The outbox dispatcher: send due webhook deliveries, signed, and log every attempt.

``deliver_webhooks(store)`` is one pass; the controller loop calls it after each round of
ticks, and the API runs it in a background task after a change. Each pass:

1. claims due deliveries in a short transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
   plus a lease written in the same transaction), so two dispatchers never send one
   delivery at the same time;
2. POSTs each one outside any transaction (so a slow receiver holds no lock), signed with
   the webhook's secret (``rheostat.webhook_signatures``), to an address of its host that
   was resolved and checked just before (``webhook_targets``: never link-local or cloud
   metadata, private only when allowed); a refused address is a failed attempt;
3. records each attempt in its own transaction: delivered on a 2xx; otherwise retried after
   an exponential backoff with jitter, until ``max_attempts``, then failed.

A dispatcher that dies between 1 and 3 leaves a lease that runs out; the delivery is sent
again then (at least once: receivers deduplicate on the event id).
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass
from datetime import timedelta

import httpx

from rheostat.service.webhook_targets import Resolve, resolve_host, resolve_target
from rheostat.store import SqlStore
from rheostat.store.operations_records import ClaimedDelivery, DeliveryAttempt, DeliveryStatus
from rheostat.store.repositories import DeliveryOutcome
from rheostat.webhook_signatures import DELIVERY_HEADER, EVENT_HEADER, signature_headers

__all__ = ["DispatchPolicy", "DispatchReport", "backoff_delay", "deliver_webhooks"]

logger = logging.getLogger("rheostat.webhooks")
_MAX_ERROR = 500


@dataclass(frozen=True, slots=True, kw_only=True)
class DispatchPolicy:
    """How a pass sends.

    Attributes:
        batch: deliveries claimed per pass.
        max_attempts: attempts before a delivery is marked failed.
        base_delay: the wait after the first failure; doubled after each further one.
        max_delay: the longest wait between attempts.
        timeout_s: per request.
        lease: how long a claimed delivery is held for this dispatcher.
        allow_private: whether loopback and private addresses may be sent to
            (``RHEOSTAT_WEBHOOK_ALLOW_PRIVATE``).
    """

    batch: int = 50
    max_attempts: int = 8
    base_delay: timedelta = timedelta(seconds=10)
    max_delay: timedelta = timedelta(hours=1)
    timeout_s: float = 5.0
    lease: timedelta = timedelta(minutes=2)
    allow_private: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class DispatchReport:
    """What one pass did."""

    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0


def backoff_delay(attempt: int, policy: DispatchPolicy, rng: random.Random) -> timedelta:
    """The wait after failed attempt number ``attempt`` (1-based): ``base * 2**(attempt-1)``,
    capped at ``max_delay``, then scaled by a random factor in [0.5, 1) (jitter, so many
    failed deliveries do not all come back at once)."""
    exponent = min(attempt - 1, 30)
    capped = min(policy.base_delay * (2**exponent), policy.max_delay)
    factor: float = 0.5 + rng.random() / 2
    return timedelta(seconds=capped.total_seconds() * factor)


def deliver_webhooks(
    store: SqlStore,
    policy: DispatchPolicy | None = None,
    *,
    transport: httpx.BaseTransport | None = None,
    rng: random.Random | None = None,
    resolve: Resolve = resolve_host,
) -> DispatchReport:
    """Send the deliveries that are due now (one pass). Never raises for a receiver's
    failure: that is logged as an attempt and retried later.

    Args:
        transport: an httpx transport (tests may pass one; the default is the network).
        rng: the jitter's randomness (seed it for reproducible waits).
        resolve: how a webhook's host is resolved (the system resolver by default).
    """
    chosen = policy or DispatchPolicy()
    jitter = rng or random.Random()  # noqa: S311  # jitter, not cryptography
    with store.unit_of_work() as uow:
        claimed = uow.webhooks.claim(uow.now, lease=chosen.lease, limit=chosen.batch)
    if not claimed:
        return DispatchReport()
    counts = dict.fromkeys(DeliveryStatus, 0)
    with httpx.Client(timeout=chosen.timeout_s, transport=transport) as http:
        sender = _Sender(http=http, allow_private=chosen.allow_private, resolve=resolve)
        for delivery in claimed:
            status = _deliver(store, sender, delivery, chosen, jitter)
            counts[status] += 1
    return DispatchReport(
        claimed=len(claimed),
        delivered=counts[DeliveryStatus.DELIVERED],
        retrying=counts[DeliveryStatus.PENDING],
        failed=counts[DeliveryStatus.FAILED],
    )


def _deliver(
    store: SqlStore,
    sender: _Sender,
    delivery: ClaimedDelivery,
    policy: DispatchPolicy,
    rng: random.Random,
) -> DeliveryStatus:
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    sent_at = store.clock.now()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "rheostat-webhooks",
        EVENT_HEADER: delivery.event_type,
        DELIVERY_HEADER: str(delivery.id),
        **signature_headers(delivery.secret, body, timestamp=int(sent_at.timestamp())),
    }
    started = store.clock.monotonic()
    code, error = sender.post(delivery.url, body, headers)
    attempt = DeliveryAttempt(
        attempt=delivery.attempts + 1,
        at=sent_at,
        status_code=code,
        error=error,
        duration_ms=max(0, round((store.clock.monotonic() - started) * 1000)),
    )
    outcome = _outcome(attempt, policy, rng)
    with store.unit_of_work() as uow:
        uow.webhooks.record(delivery.id, outcome)
    if outcome.status is not DeliveryStatus.DELIVERED:
        logger.warning(
            "rheostat: webhook delivery %s (%s) attempt %s failed: %s",
            delivery.id,
            delivery.event_type,
            attempt.attempt,
            outcome.last_error,
        )
    return outcome.status


@dataclass(frozen=True, slots=True, kw_only=True)
class _Sender:
    """POSTs to a webhook's URL at an address of its host resolved and checked just before:
    the request goes to that address (the URL's host in ``Host`` and, over TLS, in SNI and
    the certificate check), so a second lookup cannot answer differently. Redirects are not
    followed (httpx's default), so a receiver cannot send it elsewhere."""

    http: httpx.Client
    allow_private: bool
    resolve: Resolve

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str | None]:
        try:
            target = httpx.URL(url)
            host = target.raw_host.decode("ascii")
        except (httpx.InvalidURL, UnicodeDecodeError) as invalid:
            return None, f"invalid url: {invalid}"[:_MAX_ERROR]
        port = target.port or _DEFAULT_PORTS.get(target.scheme, 80)
        resolved = resolve_target(
            host, port, allow_private=self.allow_private, resolve=self.resolve
        )
        if resolved.refusal is not None:
            return None, resolved.refusal[:_MAX_ERROR]
        pinned = {**headers, "Host": target.netloc.decode("ascii")}
        named = target.scheme == "https" and resolved.addresses != (host,)
        extensions = {"sni_hostname": host} if named else {}
        last = ""
        for address in resolved.addresses:  # the next one only if this one refuses to connect
            request = target.copy_with(host=address)
            try:
                response = self.http.post(
                    request, content=body, headers=pinned, extensions=extensions
                )
            except httpx.ConnectError as refused:
                last = f"{type(refused).__name__}: {refused}"
                continue
            except httpx.HTTPError as failed:
                return None, f"{type(failed).__name__}: {failed}"[:_MAX_ERROR]
            return _answer(response)
        return None, last[:_MAX_ERROR]


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _answer(response: httpx.Response) -> tuple[int, str | None]:
    if 200 <= response.status_code < 300:  # the 2xx range
        return response.status_code, None
    return response.status_code, f"HTTP {response.status_code}: {response.text[:200]}"


def _outcome(
    attempt: DeliveryAttempt, policy: DispatchPolicy, rng: random.Random
) -> DeliveryOutcome:
    if attempt.error is None:
        return DeliveryOutcome(
            attempt, status=DeliveryStatus.DELIVERED, next_attempt_at=attempt.at, last_error=None
        )
    if attempt.attempt >= policy.max_attempts:
        return DeliveryOutcome(
            attempt,
            status=DeliveryStatus.FAILED,
            next_attempt_at=attempt.at,
            last_error=attempt.error,
        )
    return DeliveryOutcome(
        attempt,
        status=DeliveryStatus.PENDING,
        next_attempt_at=attempt.at + backoff_delay(attempt.attempt, policy, rng),
        last_error=attempt.error,
    )
