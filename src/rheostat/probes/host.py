"""``backup_recent``, ``disk_space`` and ``command``: files and processes of this host."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rheostat.checks import CheckSpec, Finding
from rheostat.clock import Clock

__all__ = ["backup_probe", "probe_command", "probe_disk_space"]

_TAIL = 500
_GIB = 1024**3


def probe_command(check: CheckSpec) -> Finding:
    """Pass when the command exits 0 (run without a shell, killed at the timeout)."""
    try:
        finished = _run(check, check.params["run"])
    except subprocess.TimeoutExpired:
        return Finding.failed(
            f"the command did not finish within {check.timeout_seconds:g}s (killed)",
            command=_argv(check.params["run"]),
        )
    except OSError as error:
        return Finding.failed(
            f"the command could not start: {error}", command=_argv(check.params["run"])
        )
    evidence = _process_evidence(check.params["run"], finished)
    if finished.returncode != 0:
        return Finding.failed(f"the command exited {finished.returncode}", **evidence)
    return Finding.passed("the command exited 0", **evidence)


def probe_disk_space(check: CheckSpec) -> Finding:
    """Pass when the file system of ``path`` has at least the free space asked for."""
    path = check.params["path"]
    usage = shutil.disk_usage(path)
    free_gb, free_percent = usage.free / _GIB, 100.0 * usage.free / usage.total
    evidence = {
        "path": path,
        "free_gb": round(free_gb, 3),
        "free_percent": round(free_percent, 3),
        "total_gb": round(usage.total / _GIB, 3),
    }
    short = []
    if (minimum := check.params.get("min_free_gb")) is not None and free_gb < minimum:
        short.append(f"{free_gb:.2f} GB free, below {minimum:g} GB")
    if (share := check.params.get("min_free_percent")) is not None and free_percent < share:
        short.append(f"{free_percent:.1f}% free, below {share:g}%")
    if short:
        return Finding.failed(f"{path}: {'; '.join(short)}", **evidence)
    return Finding.passed(f"{path}: {free_gb:.2f} GB ({free_percent:.1f}%) free", **evidence)


def backup_probe(clock: Clock) -> Callable[[CheckSpec], Finding]:
    """The ``backup_recent`` probe, measuring ages against ``clock``."""

    def probe(check: CheckSpec) -> Finding:
        found = _newest_file(check) if "path" in check.params else _command_time(check)
        if isinstance(found, Finding):
            return found
        taken, evidence = found
        age_hours = (clock.now() - taken).total_seconds() / 3600
        limit = check.params["max_age_hours"]
        evidence = {**evidence, "taken_at": taken.isoformat(), "age_hours": round(age_hours, 3)}
        if age_hours > limit:
            return Finding.failed(
                f"the newest backup is {age_hours:.1f} h old, over the {limit:g} h limit",
                **evidence,
            )
        return Finding.passed(f"the newest backup is {age_hours:.1f} h old", **evidence)

    return probe


def _newest_file(check: CheckSpec) -> tuple[datetime, dict[str, Any]] | Finding:
    folder, pattern = Path(check.params["path"]), check.params["pattern"]
    if not folder.is_dir():
        return Finding.failed(f"{folder} is not a folder", path=str(folder))
    files = [path for path in folder.glob(pattern) if path.is_file()]
    if not files:
        return Finding.failed(
            f"no backup in {folder} matches {pattern!r}", path=str(folder), pattern=pattern
        )
    newest = max(files, key=lambda path: path.stat().st_mtime)
    taken = datetime.fromtimestamp(newest.stat().st_mtime, tz=UTC)
    return taken, {"path": str(folder), "file": str(newest), "files": len(files)}


def _command_time(check: CheckSpec) -> tuple[datetime, dict[str, Any]] | Finding:
    command = check.params["command"]
    try:
        finished = _run(check, command)
    except subprocess.TimeoutExpired:
        return Finding.failed(f"the command did not finish within {check.timeout_seconds:g}s")
    except OSError as error:
        return Finding.failed(f"the command could not start: {error}", command=_argv(command))
    evidence = _process_evidence(command, finished)
    lines = [line.strip() for line in finished.stdout.splitlines() if line.strip()]
    if finished.returncode != 0 or not lines:
        return Finding.failed(
            f"the command exited {finished.returncode} without printing a timestamp", **evidence
        )
    taken = _moment(lines[-1])
    if taken is None:
        return Finding.failed(
            f"the command's last line is not a timestamp: {lines[-1][:100]!r}", **evidence
        )
    return taken, evidence


def _moment(text: str) -> datetime | None:
    """An ISO 8601 moment (UTC when it names no offset) or Unix seconds."""
    try:
        return datetime.fromtimestamp(float(text), tz=UTC)
    except (ValueError, OverflowError, OSError):
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _argv(command: str | list[str]) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else list(command)


def _run(check: CheckSpec, command: str | list[str]) -> subprocess.CompletedProcess[str]:
    extra = check.params.get("env") or {}
    return subprocess.run(  # noqa: S603  # the operator's own suite file names the command
        _argv(command),
        cwd=check.params.get("cwd"),
        env={**os.environ, **extra} if extra else None,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=check.timeout_seconds,
        check=False,
    )


def _process_evidence(
    command: str | list[str], finished: subprocess.CompletedProcess[str]
) -> dict[str, Any]:
    return {
        "command": _argv(command),
        "exit_code": finished.returncode,
        "stdout": finished.stdout[-_TAIL:],
        "stderr": finished.stderr[-_TAIL:],
    }
