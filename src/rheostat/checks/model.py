"""The values of a check run: what a check is, what it found, and what a run adds up to.

Every value here is frozen and JSON-friendly (``to_document``), so a run can be stored, sent
over HTTP and printed without another model tier in between.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "CheckResult",
    "CheckRun",
    "CheckSpec",
    "Finding",
    "Severity",
    "Status",
    "Suite",
    "Summary",
    "exit_code",
    "summarize",
]


class Status(StrEnum):
    """What a check found: ``pass``, ``warn`` (shown, never blocking) or ``fail``."""

    PASS = "pass"  # noqa: S105  # a status, not a password
    WARN = "warn"
    FAIL = "fail"


class Severity(StrEnum):
    """What a check's own failure counts as: ``fail`` (the default) or only ``warn``.

    A check that crashes or times out is a ``fail`` whatever its severity: it proved nothing.
    """

    FAIL = "fail"
    WARN = "warn"


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckSpec:
    """One configured check of a suite.

    Attributes:
        name: unique within the suite (defaults to the kind).
        kind: the registry entry that runs it (``http``, ``schema``, ...).
        params: the kind's validated parameters (JSON values, ``${VAR}`` already expanded).
        timeout_seconds: the check is a ``fail`` when it has not answered by then.
        severity: what the check's own ``fail`` counts as.
        path: where it sits in its document (``checks[2]``), for messages.
    """

    name: str
    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)
    timeout_seconds: float = 30.0
    severity: Severity = Severity.FAIL
    path: str = ""

    def to_document(self) -> dict[str, Any]:
        """The check as a suite document entry (``parse_suite`` reads it back)."""
        return {
            "name": self.name,
            "kind": self.kind,
            **self.params,
            "timeout": self.timeout_seconds,
            "severity": self.severity.value,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Suite:
    """A named list of checks, run together."""

    name: str
    checks: tuple[CheckSpec, ...]

    def to_document(self) -> dict[str, Any]:
        """The suite as a document (``parse_suite`` reads it back unchanged)."""
        return {"suite": self.name, "checks": [check.to_document() for check in self.checks]}


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """What a probe returns: a status, one human sentence, and the facts behind it."""

    status: Status
    message: str
    evidence: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def passed(cls, message: str, **evidence: Any) -> Finding:
        """A ``pass``."""
        return cls(status=Status.PASS, message=message, evidence=evidence)

    @classmethod
    def failed(cls, message: str, **evidence: Any) -> Finding:
        """A ``fail``."""
        return cls(status=Status.FAIL, message=message, evidence=evidence)

    @classmethod
    def warned(cls, message: str, **evidence: Any) -> Finding:
        """A ``warn``."""
        return cls(status=Status.WARN, message=message, evidence=evidence)


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    """One check's result in a run.

    Attributes:
        name, kind: the check.
        status: after its severity was applied.
        message: one sentence; for a crash or timeout, the error.
        evidence: the facts (status codes, latencies, missing tables, ...).
        duration_seconds: how long it ran (its timeout, when it timed out).
        error: ``timeout`` or ``crash`` when the check itself broke, else ``None``.
    """

    name: str
    kind: str
    status: Status
    message: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    duration_seconds: float = 0.0
    error: str | None = None

    def to_document(self) -> dict[str, Any]:
        """The result as JSON (stored in ``check_runs``, sent by the API, printed by --json)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "status": self.status.value,
            "message": self.message,
            "evidence": dict(self.evidence),
            "duration_seconds": round(self.duration_seconds, 6),
            "error": self.error,
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> CheckResult:
        """Read back what ``to_document`` wrote."""
        return cls(
            name=str(document["name"]),
            kind=str(document["kind"]),
            status=Status(document["status"]),
            message=str(document["message"]),
            evidence=dict(document.get("evidence") or {}),
            duration_seconds=float(document.get("duration_seconds") or 0.0),
            error=document.get("error"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    """What a run adds up to: the worst status and the count of each."""

    status: Status
    passed: int
    warned: int
    failed: int

    @property
    def total(self) -> int:
        """How many checks ran."""
        return self.passed + self.warned + self.failed

    def to_document(self) -> dict[str, Any]:
        """The summary as JSON."""
        return {
            "status": self.status.value,
            "passed": self.passed,
            "warned": self.warned,
            "failed": self.failed,
            "total": self.total,
        }


def summarize(results: Iterable[CheckResult]) -> Summary:
    """Count the results; the run's status is the worst of them (``pass`` when empty)."""
    counts = dict.fromkeys(Status, 0)
    for result in results:
        counts[result.status] += 1
    worst = next((status for status in (Status.FAIL, Status.WARN) if counts[status]), Status.PASS)
    return Summary(
        status=worst,
        passed=counts[Status.PASS],
        warned=counts[Status.WARN],
        failed=counts[Status.FAIL],
    )


_EXIT_CODES = {Status.PASS: 0, Status.WARN: 0, Status.FAIL: 1}


def exit_code(results: Sequence[CheckResult]) -> int:
    """0 when nothing failed (warnings are shown, not fatal), 1 when any check failed."""
    return _EXIT_CODES[summarize(results).status]


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckRun:
    """A stored run of a suite (table ``check_runs``).

    Attributes:
        id: assigned by the store (0 before it is stored).
        suite: the suite's name; document: the suite as it ran (``Suite.to_document``).
        results: one per check, in the suite's order.
        source: who ran it: ``cli``, ``api``, ``plan`` or ``python``.
        actor: the API key's name, the CLI user, ``controller``.
        environment, plan, stage: for a plan's ``check`` stage (``stage`` 0-based), else None;
            a plan's check gate has its environment and plan, no stage, and the gate as
            ``suite``.
        started_at, finished_at: when it ran.
    """

    id: int = 0
    suite: str
    document: Mapping[str, Any] = field(default_factory=dict)
    results: tuple[CheckResult, ...]
    source: str
    actor: str
    environment: str | None = None
    plan: str | None = None
    stage: int | None = None
    started_at: datetime
    finished_at: datetime

    @property
    def summary(self) -> Summary:
        """What the run adds up to."""
        return summarize(self.results)

    def to_document(self) -> dict[str, Any]:
        """The run as JSON (the API's and ``rheostat check --json``'s answer)."""
        return {
            "id": self.id,
            "suite": self.suite,
            "status": self.summary.status.value,
            "summary": self.summary.to_document(),
            "results": [result.to_document() for result in self.results],
            "source": self.source,
            "actor": self.actor,
            "environment": self.environment,
            "plan": self.plan,
            "stage": None if self.stage is None else self.stage + 1,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
        }
