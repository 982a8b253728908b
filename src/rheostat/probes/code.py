"""``python``: a callable by import path (``package.module:function``), called with ``args``."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from rheostat.checks import CheckSpec, Finding, Status

__all__ = ["probe_python"]


def probe_python(check: CheckSpec) -> Finding:
    """Call the target; its answer decides.

    It may return ``True``/``False``, a status (``"pass"``, ``"warn"``, ``"fail"``), a
    ``Finding``, a mapping ``{"status", "message", "evidence"}``, or any object with
    ``status`` and ``message`` attributes (seed 000's ``CheckResult``; ``"warning"`` is read
    as ``warn``). Anything it raises is the check's crash.
    """
    target = check.params["target"]
    module_name, _, name = target.partition(":")
    function = getattr(importlib.import_module(module_name), name)
    if not callable(function):
        raise TypeError(f"{target} is not callable")
    return _finding(target, function(**(check.params.get("args") or {})))


def _finding(target: str, answer: Any) -> Finding:
    if isinstance(answer, Finding):
        return answer
    if isinstance(answer, bool):
        verb = "returned true" if answer else "returned false"
        return Finding(status=Status.PASS if answer else Status.FAIL, message=f"{target} {verb}")
    if isinstance(answer, str):
        return Finding(status=_status(answer), message=f"{target} returned {answer!r}")
    if isinstance(answer, Mapping):
        return Finding(
            status=_status(answer.get("status")),
            message=str(answer.get("message") or target),
            evidence=dict(answer.get("evidence") or answer.get("details") or {}),
        )
    if hasattr(answer, "status"):
        return Finding(
            status=_status(answer.status),
            message=str(getattr(answer, "message", "") or target),
            evidence=dict(getattr(answer, "details", None) or {}),
        )
    raise TypeError(f"{target} returned {type(answer).__name__}; expected a bool or a status")


def _status(value: Any) -> Status:
    text = "warn" if value == "warning" else value
    try:
        return Status(text)
    except ValueError:
        raise ValueError(f"{value!r} is not a status (pass, warn or fail)") from None
