"""What every engine adapter builds: the users, the four scenarios, and a timed sweep per scenario.

An adapter module exposes ``build(users) -> list[Engine]`` and raises ``Unavailable`` (or lets an
``ImportError`` out) when its SDK cannot run here. Each ``Case`` holds the contexts the SDK wants,
built once up front, and a ``sweep`` that evaluates every context once and returns how many were
served the treatment (``True`` in S1-S3, ``"B"`` in S4). The harness times the sweep and checks
that count against the split the scenario asks for, so the timed code is the verified code.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "COUNTRIES",
    "PLANS",
    "TARGET_COUNTRIES",
    "Case",
    "Engine",
    "Sweep",
    "Unavailable",
    "User",
    "make_users",
]

TARGET_COUNTRIES = ("US", "CA", "GB")
COUNTRIES = (*TARGET_COUNTRIES, "DE", "FR", "IN", "BR", "JP")
PLANS = ("free", "pro", "enterprise")


class Unavailable(Exception):  # reads as "raise Unavailable(why)"
    """The SDK cannot run offline here; the message says why, and the report shows it."""


@dataclass(frozen=True, kw_only=True, slots=True)
class User:
    """One synthetic user: a uuid4 key and the two attributes the scenarios test."""

    key: str
    country: str
    plan: str

    @property
    def targeted(self) -> bool:
        """Whether S3's rule (country in US/CA/GB and plan enterprise) serves this user on."""
        return self.country in TARGET_COUNTRIES and self.plan == "enterprise"


def make_users(count: int, *, seed: int) -> list[User]:
    """Draw ``count`` distinct users from a seeded generator (the same every run)."""
    rng = random.Random(seed)
    return [
        User(
            key=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            country=rng.choice(COUNTRIES),
            plan=rng.choice(PLANS),
        )
        for _ in range(count)
    ]


Sweep = Callable[[Sequence[object]], int]


@dataclass(frozen=True, kw_only=True, slots=True)
class Case:
    """One scenario built for one engine.

    Attributes:
        contexts: the SDK's own context object for each user, in the order of the users.
        sweep: evaluates each context once; returns how many got the treatment.
        api: the call being timed, as a reader would write it.
    """

    contexts: Sequence[object]
    sweep: Sweep
    api: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Engine:
    """One SDK (or one way of calling it), ready to time.

    Attributes:
        name: short label for the tables.
        package: the PyPI distribution it comes from.
        mode: how it runs without a network (offline file, in-memory rules...).
        cases: scenario id (``S1``..``S4``, or ``S4/variant``-style extras) to its case.
        is_ours: True for rheostat itself, which is compared against the rest.
        close: stops whatever the SDK started (threads, schedulers), if anything.
    """

    name: str
    package: str
    mode: str
    cases: Mapping[str, Case]
    is_ours: bool = False
    close: Callable[[], object] | None = None
