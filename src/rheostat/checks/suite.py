"""Reading a suite document into a ``Suite``, refusing mistakes with the path that is wrong.

```yaml
suite: pre-rollout              # optional name
timeout: 30s                    # default timeout of each check (default 30s)
database: ${APP_DATABASE_URL}   # default `url` of the database kinds (optional)
checks:
  - {name: api, kind: http, url: "${API_URL}/health", max_latency_ms: 500}
  - {name: backups, kind: backup_recent, path: /var/backups/db, max_age_hours: 26}
```

``${VAR}`` (and ``${VAR:-default}``) in any string is replaced from ``environ``; ``$${`` is a
literal ``${``. With ``environ=None`` (a suite sent over HTTP) a reference is refused: the
server's environment is not the caller's to read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from rheostat.checks._fields import (
    MAX_TIMEOUT_SECONDS,
    check_fields,
    read_duration_seconds,
    read_text,
    require_mapping,
)
from rheostat.checks.kinds import BUILTIN_KINDS, Kind
from rheostat.checks.model import CheckSpec, Severity, Suite
from rheostat.errors import InvalidDefinition, ValidationError
from rheostat.inputs import validate_key

__all__ = [
    "DEFAULT_TIMEOUT_SECONDS",
    "MAX_CHECKS",
    "expand_environment",
    "parse_suite",
    "read_suite",
]

DEFAULT_TIMEOUT_SECONDS = 30.0
MAX_CHECKS = 200
_COMMON = {"name", "kind", "timeout", "severity"}
_DATABASE_KINDS = frozenset({"database_reachable", "schema", "index_used", "sql"})
_REFERENCE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_DOLLAR_BRACE = "${"


def read_suite(
    text: str, *, environ: Mapping[str, str] | None, kinds: Mapping[str, Kind] = BUILTIN_KINDS
) -> Suite:
    """Parse YAML (or JSON) text, then ``parse_suite`` it.

    Raises:
        InvalidDefinition: not YAML, or not a valid suite (the path names the mistake).
    """
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or "unreadable"
        raise InvalidDefinition("", f"the suite is not valid YAML{where}: {problem}") from None
    return parse_suite(document, environ=environ, kinds=kinds)


def parse_suite(
    document: Any, *, environ: Mapping[str, str] | None, kinds: Mapping[str, Kind] = BUILTIN_KINDS
) -> Suite:
    """Validate a suite document whole and return it with ``${VAR}`` expanded.

    Raises:
        InvalidDefinition: naming the path (``checks[2].url``) and what was expected.
    """
    body = require_mapping(expand_environment(document, "", environ), "suite document")
    check_fields(body, {"suite", "timeout", "database", "checks"}, "")
    name = _name(body.get("suite", "checks"), "suite")
    timeout = _timeout(body.get("timeout", DEFAULT_TIMEOUT_SECONDS), "timeout")
    database = read_text(body["database"], "database") if body.get("database") else None
    raw_checks = body.get("checks")
    if not isinstance(raw_checks, list) or not raw_checks:
        raise InvalidDefinition("checks", "must be a non-empty list of checks")
    if len(raw_checks) > MAX_CHECKS:
        raise InvalidDefinition("checks", f"at most {MAX_CHECKS} checks, got {len(raw_checks)}")
    checks: list[CheckSpec] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(raw_checks):
        path = f"checks[{index}]"
        check = _check(item, path, kinds, timeout=timeout, database=database)
        if check.name in seen:
            raise InvalidDefinition(
                f"{path}.name", f"{check.name!r} is already the name of checks[{seen[check.name]}]"
            )
        seen[check.name] = index
        checks.append(check)
    return Suite(name=name, checks=tuple(checks))


def _check(
    item: Any, path: str, kinds: Mapping[str, Kind], *, timeout: float, database: str | None
) -> CheckSpec:
    body = require_mapping(item, path)
    if "kind" not in body:
        raise InvalidDefinition(f"{path}.kind", f"missing: one of {', '.join(sorted(kinds))}")
    kind_name = body["kind"]
    kind = kinds.get(kind_name) if isinstance(kind_name, str) else None
    if kind is None:
        raise InvalidDefinition(
            f"{path}.kind", f"unknown kind {kind_name!r} (one of {', '.join(sorted(kinds))})"
        )
    check_fields(body, _COMMON | set(kind.params), path)
    if database is not None and kind.name in _DATABASE_KINDS and body.get("url") is None:
        body = {**body, "url": database}
    return CheckSpec(
        name=_name(body.get("name", kind.name), f"{path}.name"),
        kind=kind.name,
        params=kind.read(body, path),
        timeout_seconds=_timeout(body.get("timeout", timeout), f"{path}.timeout"),
        severity=_severity(body.get("severity", "fail"), f"{path}.severity"),
        path=path,
    )


def _name(value: Any, path: str) -> str:
    try:
        return validate_key(value, "check")
    except ValidationError:
        raise InvalidDefinition(
            path,
            "must be a name of letters, digits, '_', '.', ':', '-' (at most 128 characters),"
            f" got {value!r}",
        ) from None


def _timeout(value: Any, path: str) -> float:
    seconds = read_duration_seconds(value, path)
    if seconds > MAX_TIMEOUT_SECONDS:
        raise InvalidDefinition(path, f"must be at most {MAX_TIMEOUT_SECONDS:g}s, got {value!r}")
    return seconds


def _severity(value: Any, path: str) -> Severity:
    try:
        return Severity(value)
    except ValueError:
        raise InvalidDefinition(path, f"must be 'fail' or 'warn', got {value!r}") from None


def expand_environment(value: Any, path: str, environ: Mapping[str, str] | None) -> Any:
    """Return ``value`` with ``${VAR}`` replaced in every string (keys are left alone).

    Raises:
        InvalidDefinition: a variable that is not set (and has no ``:-default``), or any
            reference when ``environ`` is ``None``.
    """
    if isinstance(value, str):
        return _expand(value, path, environ)
    if isinstance(value, Mapping):
        return {
            key: expand_environment(item, _join(path, str(key)), environ)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [
            expand_environment(item, f"{path}[{index}]", environ)
            for index, item in enumerate(value)
        ]
    return value


def _expand(text: str, path: str, environ: Mapping[str, str] | None) -> str:
    def replace(found: re.Match[str]) -> str:
        if found[0] == "$${":
            return _DOLLAR_BRACE
        variable, default = found[1], found[2]
        if environ is None:
            raise InvalidDefinition(
                path, f"${{{variable}}}: environment variables are not expanded in this suite"
            )
        if variable in environ:
            return environ[variable]
        if default is not None:
            return default
        raise InvalidDefinition(path, f"environment variable {variable} is not set")

    return _REFERENCE.sub(replace, text)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
