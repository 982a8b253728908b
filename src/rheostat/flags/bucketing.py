"""Deterministic, salted, versioned bucketing.

Scheme (hash version 1), the same in every process, machine and language::

    bucket = murmurhash3_x86_32(utf8(f"{salt}:{value}"), seed=0) as unsigned  mod  100_000

Split weights are percentages with three decimals, i.e. whole buckets (12.345 % = 12,345
buckets). Variants take contiguous ranges in their declared order, so widening the first
variant's share keeps everyone who already had it. Reference vectors: tests/vectors/bucketing.json.
"""

from __future__ import annotations

import mmh3

__all__ = ["BUCKETS", "HASH_VERSIONS", "bucket", "percent_to_buckets"]

BUCKETS = 100_000
"""Number of buckets: one per thousandth of a percent."""

HASH_VERSIONS = frozenset({1})
"""Hash versions this engine implements; a flag stores the one it was created with."""


def bucket(salt: str, value: str, *, version: int = 1) -> int:
    """Return the bucket in ``[0, 100_000)`` of ``value`` for a flag salted with ``salt``.

    Raises:
        ValueError: for a hash version this engine does not implement.
    """
    if version not in HASH_VERSIONS:
        raise ValueError(f"unknown hash version {version}; known: {sorted(HASH_VERSIONS)}")
    # UTF-8 bytes, the scheme's input; also, mmh3 crashes on a str holding a lone surrogate.
    data = f"{salt}:{value}".encode("utf-8", "surrogatepass")
    return mmh3.hash(data, 0, False) % BUCKETS


def percent_to_buckets(percent: float) -> int:
    """Convert a percentage with at most three decimals into a whole number of buckets."""
    return round(percent * 1000)
