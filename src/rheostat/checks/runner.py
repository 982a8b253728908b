"""``Registry`` (kind -> probe) and ``run_suite``: every check at once, each with its timeout.

Each check runs in its own daemon thread. The runner waits for each until its timeout (counted
from the start of the run, since all start together); one that has not answered by then is a
``fail`` with error ``timeout``, one that raises is a ``fail`` with error ``crash``, and the
others are not affected. A timed-out thread cannot be killed: it is left to finish on its own
(daemon, so it never keeps the process alive), which is why the I/O probes also bound their
own waits with the check's timeout.

No clock is read here: the caller passes ``monotonic`` (``Clock.monotonic``) for durations.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

from rheostat.checks.model import CheckResult, CheckSpec, Finding, Severity, Status, Suite

__all__ = ["Probe", "Registry", "run_suite"]

Probe = Callable[[CheckSpec], Finding]
"""Runs one check: gets its spec (``params``, ``timeout_seconds``), returns a ``Finding``."""


class Registry:
    """Which probe runs each kind; built explicitly by the edge that runs a suite.

    Immutable: ``with_probes`` returns a new registry, so one built for a server can be
    extended per run (the store-backed kinds of one transaction) without affecting others.
    """

    def __init__(self, probes: Mapping[str, Probe] | None = None) -> None:
        self._probes: dict[str, Probe] = dict(probes or {})

    def with_probes(self, probes: Mapping[str, Probe]) -> Registry:
        """A registry with ``probes`` added (replacing probes of the same kinds)."""
        return Registry({**self._probes, **probes})

    def probe(self, kind: str) -> Probe | None:
        """The probe of ``kind``, or ``None``."""
        return self._probes.get(kind)

    @property
    def kinds(self) -> frozenset[str]:
        """The kinds this registry can run."""
        return frozenset(self._probes)


@dataclass(slots=True)
class _Slot:
    check: CheckSpec
    done: threading.Event
    result: CheckResult | None = None


def run_suite(
    suite: Suite | Iterable[CheckSpec], registry: Registry, *, monotonic: Callable[[], float]
) -> tuple[CheckResult, ...]:
    """Run every check concurrently; return one result per check, in the suite's order.

    Never raises for a check's sake: a missing probe, a crash and a timeout are ``fail``
    results naming the error.
    """
    checks = suite.checks if isinstance(suite, Suite) else tuple(suite)
    slots = [_Slot(check=check, done=threading.Event()) for check in checks]
    started = monotonic()
    for slot in slots:
        probe = registry.probe(slot.check.kind)
        if probe is None:
            slot.result = _missing(slot.check, registry)
            slot.done.set()
            continue
        worker = threading.Thread(
            target=_work,
            args=(slot, probe, monotonic),
            name=f"rheostat-check-{slot.check.name}",
            daemon=True,
        )
        worker.start()
    return tuple(_wait(slot, started, monotonic) for slot in slots)


def _wait(slot: _Slot, started: float, monotonic: Callable[[], float]) -> CheckResult:
    remaining = slot.check.timeout_seconds - (monotonic() - started)
    if slot.done.wait(max(remaining, 0.0)) and slot.result is not None:
        return slot.result
    check = slot.check
    return CheckResult(
        name=check.name,
        kind=check.kind,
        status=Status.FAIL,
        message=f"timed out: no answer within {check.timeout_seconds:g}s",
        evidence={"timeout_seconds": check.timeout_seconds},
        duration_seconds=check.timeout_seconds,
        error="timeout",
    )


def _work(slot: _Slot, probe: Probe, monotonic: Callable[[], float]) -> None:
    check = slot.check
    began = monotonic()
    try:
        finding = probe(check)
        if not isinstance(finding, Finding):
            raise TypeError(f"the probe returned {type(finding).__name__}, not a Finding")
        slot.result = _judged(check, finding, monotonic() - began)
    except Exception as error:  # noqa: BLE001  # a crashing check is a fail, never the run's end
        slot.result = CheckResult(
            name=check.name,
            kind=check.kind,
            status=Status.FAIL,
            message=f"crashed: {type(error).__name__}: {error}",
            evidence={"exception": type(error).__name__},
            duration_seconds=monotonic() - began,
            error="crash",
        )
    finally:
        slot.done.set()


def _judged(check: CheckSpec, finding: Finding, duration: float) -> CheckResult:
    result = CheckResult(
        name=check.name,
        kind=check.kind,
        status=finding.status,
        message=finding.message,
        evidence=dict(finding.evidence),
        duration_seconds=duration,
    )
    if result.status is Status.FAIL and check.severity is Severity.WARN:
        return replace(result, status=Status.WARN, evidence={**result.evidence, "severity": "warn"})
    return result


def _missing(check: CheckSpec, registry: Registry) -> CheckResult:
    known = ", ".join(sorted(registry.kinds)) or "none"
    return CheckResult(
        name=check.name,
        kind=check.kind,
        status=Status.FAIL,
        message=f"no probe runs kind {check.kind!r} here (this runner has: {known})",
        error="crash",
    )
