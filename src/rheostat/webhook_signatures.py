"""Signing webhook bodies, and checking a signature on the receiving side (stdlib only).

Every webhook request carries::

    X-Rheostat-Timestamp: 1767225600                  (Unix seconds when it was sent)
    X-Rheostat-Signature: sha256=<hex>                (HMAC-SHA256 of "<timestamp>.<body>")
    X-Rheostat-Event: rollback.started
    X-Rheostat-Delivery: 42                           (the same for every retry of one delivery)

The signature covers the timestamp, so a captured request replayed later fails the
``tolerance_s`` check. A receiver checks it with the raw body, before parsing it::

    from rheostat.webhook_signatures import verify_signature
    ok = verify_signature(
        secret, request_body,
        signature=headers["X-Rheostat-Signature"],
        timestamp=headers["X-Rheostat-Timestamp"],
        now=time.time(),
    )

Delivery is at least once: deduplicate on the payload's ``id`` (or ``X-Rheostat-Delivery``).
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = [
    "DELIVERY_HEADER",
    "EVENT_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "sign",
    "signature_headers",
    "verify_signature",
]

SIGNATURE_HEADER = "X-Rheostat-Signature"
TIMESTAMP_HEADER = "X-Rheostat-Timestamp"
EVENT_HEADER = "X-Rheostat-Event"
DELIVERY_HEADER = "X-Rheostat-Delivery"
_SCHEME = "sha256="


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Return ``sha256=<hex>``: HMAC-SHA256 with ``secret`` of ``b"<timestamp>." + body``."""
    message = f"{int(timestamp)}.".encode() + body
    return _SCHEME + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_headers(secret: str, body: bytes, *, timestamp: int) -> dict[str, str]:
    """The timestamp and signature headers for ``body`` sent at ``timestamp``."""
    return {
        TIMESTAMP_HEADER: str(int(timestamp)),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }


def verify_signature(
    secret: str,
    body: bytes,
    *,
    signature: str | None,
    timestamp: str | int | None,
    now: float,
    tolerance_s: float = 300.0,
) -> bool:
    """Whether ``signature`` is ``secret``'s signature of ``body`` sent at ``timestamp``, and
    that moment is within ``tolerance_s`` of ``now`` (Unix seconds; pass ``time.time()``).

    Compares in constant time; never raises for malformed headers (``False``).
    """
    if not signature or timestamp is None:
        return False
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now - sent) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, sent, body), signature.strip())
