"""Pre-flight checks: named probes that answer pass, warn or fail, run together as a suite.

This package is the checks' core: the values (``CheckSpec``, ``Finding``, ``CheckResult``,
``Summary``), the suite document (``read_suite``, ``parse_suite``, with ``${VAR}``), the
built-in kinds' parameters (``BUILTIN_KINDS``), the HTTP policy (``refuse_outside``), and the
runner (``Registry``, ``run_suite``: threads and timeouts, no clock of its own). It opens no
socket, file or process: the probes that do live in ``rheostat.probes`` (network, files,
processes, code) and ``rheostat.service`` (databases, through the store).
"""

from rheostat.checks.kinds import BUILTIN_KINDS, PLAN_KINDS, Kind, Param, Reach
from rheostat.checks.model import (
    CheckResult,
    CheckRun,
    CheckSpec,
    Finding,
    Severity,
    Status,
    Suite,
    Summary,
    exit_code,
    summarize,
)
from rheostat.checks.policy import refuse_outside
from rheostat.checks.runner import Probe, Registry, run_suite
from rheostat.checks.suite import parse_suite, read_suite

__all__ = [
    "BUILTIN_KINDS",
    "PLAN_KINDS",
    "CheckResult",
    "CheckRun",
    "CheckSpec",
    "Finding",
    "Kind",
    "Param",
    "Probe",
    "Reach",
    "Registry",
    "Severity",
    "Status",
    "Suite",
    "Summary",
    "exit_code",
    "parse_suite",
    "read_suite",
    "refuse_outside",
    "run_suite",
    "summarize",
]
