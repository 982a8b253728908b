"""The migration document: which two tables, which columns to compare, which pilot groups.

```yaml
migration: revenue-partitioned
environment: production                  # where parity metrics and alerts go (optional)
old: {url: "${APP_DB}", table: revenue_transactions}
new: {table: revenue_transactions_partitioned}          # url: the old side's by default
columns: [id, org_id, amount, created_at]               # or {new_column: old_expression}
group_by: org_id                                        # parity per org as well (optional)
pilot: [123, 456, 789]                                  # only these groups (optional)
thresholds: {ok_below: 10, warning_above: 100, critical_above: 1000, checksum_mismatch: warning}
```

Every problem is an ``InvalidDefinition`` naming the field's path. ``${VAR}`` in a URL is read
from the mapping the caller passes (the edge passes ``os.environ``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rheostat.backfill.document import parse_document, read_document
from rheostat.errors import InvalidDefinition
from rheostat.inputs import (
    refuse_unknown_fields,
    require_database_url,
    require_identifier,
    require_mapping,
    require_string,
    require_table_name,
)
from rheostat.migrate.parity import ParityLevel, ParityThresholds

__all__ = [
    "MAX_PILOT_GROUPS",
    "Migration",
    "TableSide",
    "load_migration",
    "migration_from_dict",
    "migration_from_text",
]

MAX_PILOT_GROUPS = 10_000
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")
_ENVIRONMENT = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")
_FIELDS = ("migration", "environment", "old", "new", "columns", "group_by", "pilot", "thresholds")
_THRESHOLD_FIELDS = ("ok_below", "warning_above", "critical_above", "checksum_mismatch")


@dataclass(frozen=True, slots=True, kw_only=True)
class TableSide:
    """One table: its database (URL as written and as expanded) and name."""

    url_template: str
    url: str
    table: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Migration:
    """A validated migration document.

    Attributes:
        name: the migration's name; its stage flags are ``migrate.<name>.<stage>``.
        columns: ``(new column, old expression)`` pairs, compared by checksum in this order.
        group_by: the column (the same name on both sides) parity is also judged per value of.
        pilot: the group values judged one by one; empty: every group.
    """

    name: str
    old: TableSide
    new: TableSide
    columns: tuple[tuple[str, str], ...]
    environment: str | None = None
    group_by: str | None = None
    pilot: tuple[str | int, ...] = ()
    thresholds: ParityThresholds = field(default_factory=ParityThresholds)

    @property
    def same_database(self) -> bool:
        """Both tables in one database: parity reads both in one snapshot."""
        return self.old.url == self.new.url


def load_migration(path: str | Path, environ: Mapping[str, str]) -> Migration:
    """Read and validate a migration file (YAML or JSON).

    Raises:
        InvalidDefinition: naming the file when it cannot be read or parsed, else the field.
    """
    return migration_from_text(read_document(path, "migration"), environ, name_hint=str(path))


def migration_from_text(
    text: str, environ: Mapping[str, str], *, name_hint: str = "<migration>"
) -> Migration:
    """Parse YAML (or JSON) text and validate it whole."""
    return migration_from_dict(parse_document(text, name_hint), environ)


def migration_from_dict(document: Any, environ: Mapping[str, str]) -> Migration:
    """Validate a parsed migration document; raise ``InvalidDefinition`` naming the path."""
    body = require_mapping(document, "<document>")
    refuse_unknown_fields(body, _FIELDS, "")
    name = require_string(body.get("migration"), "migration")
    if not _NAME.fullmatch(name):
        raise InvalidDefinition("migration", "letters, digits, '_', '-' (at most 100)")
    environment = body.get("environment")
    if environment is not None and not (
        isinstance(environment, str) and _ENVIRONMENT.fullmatch(environment)
    ):
        raise InvalidDefinition("environment", f"an environment key, got {environment!r}")
    old = _side(body.get("old"), "old", environ, default_url=None)
    new = _side(body.get("new"), "new", environ, default_url=old)
    group_by = body.get("group_by")
    if group_by is not None:
        group_by = require_identifier(group_by, "group_by")
    pilot = _pilot(body.get("pilot"), has_group=group_by is not None)
    return Migration(
        name=name,
        environment=environment,
        old=old,
        new=new,
        columns=_columns(body.get("columns")),
        group_by=group_by,
        pilot=pilot,
        thresholds=_thresholds(body.get("thresholds")),
    )


def _side(
    raw: Any, path: str, environ: Mapping[str, str], *, default_url: TableSide | None
) -> TableSide:
    body = require_mapping(raw, path)
    refuse_unknown_fields(body, ("url", "table"), path)
    if "url" in body or default_url is None:
        template, url = require_database_url(body.get("url"), f"{path}.url", environ=environ)
    else:
        template, url = default_url.url_template, default_url.url
    table = require_table_name(body.get("table"), f"{path}.table")
    return TableSide(url_template=template, url=url, table=table)


def _columns(raw: Any) -> tuple[tuple[str, str], ...]:
    if isinstance(raw, list | tuple):
        pairs = [
            (require_identifier(item, f"columns[{index}]"),) * 2 for index, item in enumerate(raw)
        ]
    else:
        body = require_mapping(raw, "columns")
        pairs = [
            (
                require_identifier(column, "columns"),
                require_string(expression, f"columns.{column}").strip(),
            )
            for column, expression in body.items()
        ]
    if not pairs:
        raise InvalidDefinition("columns", "name at least one column to compare")
    names = [column for column, _ in pairs]
    for column in names:
        if names.count(column) > 1:
            raise InvalidDefinition("columns", f"column {column!r} named twice")
    return tuple((column, expression) for column, expression in pairs)


def _pilot(raw: Any, *, has_group: bool) -> tuple[str | int, ...]:
    if raw is None:
        return ()
    if not has_group:
        raise InvalidDefinition("pilot", "pilot groups need group_by (the column they are of)")
    if not isinstance(raw, list | tuple) or not raw:
        raise InvalidDefinition("pilot", "a non-empty list of group values")
    if len(raw) > MAX_PILOT_GROUPS:
        raise InvalidDefinition("pilot", f"at most {MAX_PILOT_GROUPS} groups, got {len(raw)}")
    for index, value in enumerate(raw):
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise InvalidDefinition(f"pilot[{index}]", f"a string or integer, got {value!r}")
    if len({str(value) for value in raw}) != len(raw):
        raise InvalidDefinition("pilot", "a group is named twice")
    return tuple(raw)


def _thresholds(raw: Any) -> ParityThresholds:
    if raw is None:
        return ParityThresholds()
    body = require_mapping(raw, "thresholds")
    refuse_unknown_fields(body, _THRESHOLD_FIELDS, "thresholds")
    default = ParityThresholds()
    limits = {
        name: _count(body.get(name, getattr(default, name)), f"thresholds.{name}")
        for name in _THRESHOLD_FIELDS[:3]
    }
    if not limits["ok_below"] <= limits["warning_above"] + 1:
        raise InvalidDefinition("thresholds.ok_below", "must not be above warning_above + 1")
    if not limits["warning_above"] <= limits["critical_above"]:
        raise InvalidDefinition("thresholds.critical_above", "must be at least warning_above")
    level = body.get("checksum_mismatch", default.checksum_mismatch.value)
    if level not in tuple(ParityLevel):
        choices = ", ".join(member.value for member in ParityLevel)
        raise InvalidDefinition("thresholds.checksum_mismatch", f"one of {choices}")
    return ParityThresholds(checksum_mismatch=ParityLevel(level), **limits)


def _count(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10**12:
        raise InvalidDefinition(path, f"a whole number of rows from 0, got {value!r}")
    return value
