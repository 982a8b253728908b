"""What a backfill run tells its caller: a batch's report, a run's result, a dry run, a verify.

``BatchOutcome`` is the runner's own record of one batch (rows, last key, totals so far);
``batch_report`` turns it and the progress into the ``BatchReport`` callers receive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rheostat.backfill import Progress, VerifyReport, encode_key

__all__ = [
    "BatchOutcome",
    "BatchReport",
    "DryRunReport",
    "RunResult",
    "VerifyOutcome",
    "batch_report",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchReport:
    """One committed batch, for progress bars and ``--json`` lines."""

    batch: int
    rows: int
    seconds: float
    size: int
    next_size: int
    rows_done: int
    rows_total: int | None
    rows_per_second: float
    eta_seconds: float | None
    percent: float | None
    last_key: str | None
    finished: bool
    throttled: tuple[str, ...] = ()
    workers: tuple[int, ...] = ()
    """The process ids of a parallel run's workers (empty: this process copies)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RunResult:
    """How a run ended: ``completed``, ``stopped`` or ``paused`` at a batch boundary."""

    name: str
    status: str
    rows_done: int
    rows_total: int | None
    rows_copied: int
    batches: int
    seconds: float
    rows_per_second: float
    last_key: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class DryRunReport:
    """What a run would do, from a count and one sample batch rolled back."""

    name: str
    strategy: str
    rows_total: int
    rows_done: int
    rows_remaining: int
    sample_rows: int
    sample_seconds: float
    rows_per_second: float
    estimated_seconds: float | None
    checkpoint: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyOutcome:
    """A verify pass: the report, and after a repair the report of the pass that followed."""

    name: str
    mode: str
    report: VerifyReport
    repaired: int = 0
    after_repair: VerifyReport | None = None

    @property
    def final(self) -> VerifyReport:
        """The last word: after the repair if there was one."""
        return self.after_repair or self.report

    @property
    def identical(self) -> bool:
        """Zero differences at the end: the only state that allows a cut-over."""
        return self.final.identical

    def to_dict(self) -> dict[str, Any]:
        """JSON form (CLI ``--json``, the store)."""
        document = {
            "name": self.name,
            "mode": self.mode,
            **_report_dict(self.report),
            "repaired": self.repaired,
            "identical": self.identical,
            "cut_over": "allowed" if self.identical else "refused",
        }
        if self.after_repair is not None:
            document["after_repair"] = _report_dict(self.after_repair)
        return document


@dataclass(slots=True)
class BatchOutcome:
    """One batch as the runner sees it: rows copied, the last key, whether the copy (or the
    range) is finished, and the checkpoint's totals after it."""

    rows: int
    last_key: tuple[Any, ...] | None
    finished: bool
    rows_done: int = 0
    batches: int = 0


def batch_report(
    outcome: BatchOutcome,
    size: int,
    next_size: int,
    seconds: float,
    now: Progress,
    reasons: tuple[str, ...],
) -> BatchReport:
    """The caller's view of a committed batch."""
    return BatchReport(
        batch=outcome.batches,
        rows=outcome.rows,
        seconds=seconds,
        size=size,
        next_size=next_size,
        rows_done=outcome.rows_done,
        rows_total=now.rows_total,
        rows_per_second=now.rows_per_second,
        eta_seconds=0.0 if outcome.finished else now.eta_seconds,
        percent=100.0 if outcome.finished else now.percent,
        last_key=encode_key(outcome.last_key),
        finished=outcome.finished,
        throttled=reasons,
    )


def _report_dict(report: VerifyReport) -> dict[str, Any]:
    return {
        "chunks": report.chunks,
        "source_rows": report.source_rows,
        "target_rows": report.target_rows,
        "differences": [
            {
                "low": encode_key(difference.low),
                "high": encode_key(difference.high),
                "source_rows": difference.source.rows,
                "target_rows": difference.target.rows,
            }
            for difference in report.differences
        ],
        "identical": report.identical,
    }
