"""Deterministic, salted, versioned bucketing: the one place the scheme lives.

Scheme (hash version 1), the same in every process, machine and language::

    bucket = murmurhash3_x86_32(utf8(f"{salt}:{value}"), seed=0) as unsigned  mod  100_000

Split weights are percentages with three decimals, i.e. whole buckets (12.345 % = 12,345
buckets). Variants take contiguous ranges in their declared order, so widening the first
variant's share keeps everyone who already had it. Reference vectors: tests/vectors/bucketing.json.

Everything that buckets goes through ``bucketer``: the compiler builds one per split from the
flag's salt and ``hash_version`` and calls it per context; environment rollouts, experiments
and holdbacks do the same. ``bucket`` is the one-off form of the same function.
"""

from __future__ import annotations

from collections.abc import Callable

import mmh3

__all__ = ["BUCKETS", "HASH_VERSIONS", "Bucketer", "bucket", "bucketer", "percent_to_buckets"]

BUCKETS = 100_000
"""Number of buckets: one per thousandth of a percent."""

Bucketer = Callable[[str], int]
"""Bucketing for one salt and hash version: a value to its bucket in ``[0, BUCKETS)``."""

_murmur3 = mmh3.hash


def _bucketer_v1(salt: str) -> Bucketer:
    """Hash version 1, the module docstring's scheme; its function is the hot path of a split."""
    prefix = f"{salt}:"  # joined once per salt, not per call

    def bucket_of(value: str) -> int:
        text = prefix + value
        if text.isascii():  # an ASCII str is its own UTF-8: mmh3 hashes it without a copy
            return _murmur3(text, 0, False) % BUCKETS
        # mmh3 would encode the str itself but crashes on a lone surrogate; same bytes here
        return _murmur3(text.encode("utf-8", "surrogatepass"), 0, False) % BUCKETS

    return bucket_of


_SCHEMES: dict[int, Callable[[str], Bucketer]] = {1: _bucketer_v1}

HASH_VERSIONS = frozenset(_SCHEMES)
"""Hash versions this engine implements; a flag stores the one it was created with."""


def bucketer(salt: str, *, version: int = 1) -> Bucketer:
    """Return the bucketing function of ``salt`` under hash ``version``.

    Build it once (per flag, split or experiment) and call it per context: the salt is joined
    and the version resolved here, not on every call.

    Raises:
        ValueError: for a hash version this engine does not implement.
    """
    scheme = _SCHEMES.get(version)
    if scheme is None:
        raise ValueError(f"unknown hash version {version}; known: {sorted(HASH_VERSIONS)}")
    return scheme(salt)


def bucket(salt: str, value: str, *, version: int = 1) -> int:
    """Return the bucket in ``[0, 100_000)`` of ``value`` for a flag salted with ``salt``.

    The one-off form of ``bucketer(salt, version=version)(value)``; loops should build the
    bucketer once.

    Raises:
        ValueError: for a hash version this engine does not implement.
    """
    return bucketer(salt, version=version)(value)


def percent_to_buckets(percent: float) -> int:
    """Convert a percentage with at most three decimals into a whole number of buckets."""
    return round(percent * 1000)
