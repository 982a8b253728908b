"""The built-in check kinds: the parameters each takes, and how far each reaches.

A ``Kind`` says which fields a check of that kind may carry (each read by a ``_fields`` reader
that names the path of a mistake), which are required, and a rule across fields. ``Reach``
is what the HTTP API's policy looks at: a ``store`` kind reads rheostat's own database only
(unless it names a ``url``); an ``outside`` kind opens sockets, files, processes or imports
code, so the API refuses it unless the server's settings allow it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from typing import Any

from rheostat.checks._fields import (
    read_bool,
    read_command,
    read_duration_seconds,
    read_mapping,
    read_number,
    read_port,
    read_string_list,
    read_string_map,
    read_table_lists,
    read_target,
    read_text,
)
from rheostat.checks.conditions import read_condition
from rheostat.errors import InvalidDefinition

__all__ = ["BUILTIN_KINDS", "PLAN_KINDS", "Kind", "Param", "Reach"]


class Reach(StrEnum):
    """What a kind touches: rheostat's own database only, or anything outside it."""

    STORE = "store"
    OUTSIDE = "outside"


@dataclass(frozen=True, slots=True, kw_only=True)
class Param:
    """One field of a kind: how to read it, and whether it must be there (or its default)."""

    read: Callable[[Any, str], Any]
    required: bool = False
    default: Any = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Kind:
    """A check kind's parameters.

    Attributes:
        name: the ``kind:`` of a suite entry.
        summary: one line for the documentation and ``rheostat check --help``.
        params: its fields (besides ``name``, ``kind``, ``timeout``, ``severity``).
        reach: ``store`` or ``outside`` (see the module docstring).
        rule: a check across fields (one of two fields, at least one of several), or ``None``.
    """

    name: str
    summary: str
    params: Mapping[str, Param] = field(default_factory=dict)
    reach: Reach = Reach.OUTSIDE
    rule: Callable[[Mapping[str, Any], str], None] | None = None

    def read(self, body: Mapping[str, Any], path: str) -> dict[str, Any]:
        """Read this kind's fields of ``body`` (unknown ones were refused by the caller)."""
        params: dict[str, Any] = {}
        for name, param in self.params.items():
            if name in body and body[name] is not None:
                params[name] = param.read(body[name], f"{path}.{name}")
            elif param.required:
                raise InvalidDefinition(f"{path}.{name}", f"missing: a {self.name} check needs it")
            elif param.default is not None:
                params[name] = param.default
        if self.rule is not None:
            self.rule(params, path)
        return params


def _one_of(*names: str) -> Callable[[Mapping[str, Any], str], None]:
    def rule(params: Mapping[str, Any], path: str) -> None:
        given = [name for name in names if name in params]
        if len(given) != 1:
            raise InvalidDefinition(
                f"{path}.{names[0]}",
                f"give exactly one of {', '.join(names)}, got {given or 'none'}",
            )

    return rule


def _any_of(*names: str) -> Callable[[Mapping[str, Any], str], None]:
    def rule(params: Mapping[str, Any], path: str) -> None:
        if not any(name in params for name in names):
            raise InvalidDefinition(
                f"{path}.{names[0]}", f"missing: give at least one of {', '.join(names)}"
            )

    return rule


def _statuses(value: Any, path: str) -> list[int]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise InvalidDefinition(path, "must name at least one HTTP status")
    for index, item in enumerate(items):
        where = f"{path}[{index}]" if isinstance(value, list) else path
        if isinstance(item, bool) or not isinstance(item, int) or not 100 <= item <= 599:
            raise InvalidDefinition(where, f"must be an HTTP status from 100 to 599, got {item!r}")
    return list(items)


def _method(value: Any, path: str) -> str:
    text = read_text(value, path).upper()
    if text not in {"GET", "HEAD", "POST", "OPTIONS"}:
        raise InvalidDefinition(path, f"must be GET, HEAD, POST or OPTIONS, got {value!r}")
    return text


def _alembic(value: Any, path: str) -> str:
    return read_text(value, path)


_TEXT = Param(read=read_text)
_REQUIRED_TEXT = Param(read=read_text, required=True)
_URL = Param(read=read_text)
_POSITIVE = partial(read_number, positive=True)
_COUNT = partial(read_number, minimum=1)
_WITHIN = Param(read=read_duration_seconds, default=3600.0)
_MIN_N = Param(read=_COUNT, default=1)

_DATABASE_KINDS = (
    Kind(
        name="database_reachable",
        summary="the database answers SELECT 1 (rheostat's own, or `url`)",
        params={"url": _URL},
        reach=Reach.STORE,
    ),
    Kind(
        name="schema",
        summary="tables, columns and indexes exist; the Alembic revision is applied",
        params={
            "url": _URL,
            "tables": Param(read=read_string_list),
            "columns": Param(read=read_table_lists),
            "indexes": Param(read=read_table_lists),
            "alembic": Param(read=_alembic),
            "alembic_scripts": _TEXT,
        },
        reach=Reach.STORE,
        rule=_any_of("tables", "columns", "indexes", "alembic"),
    ),
    Kind(
        name="index_used",
        summary="EXPLAIN of `query` uses the named index (PostgreSQL and SQLite)",
        params={
            "url": _URL,
            "query": _REQUIRED_TEXT,
            "index": _REQUIRED_TEXT,
            "params": Param(read=read_mapping),
        },
    ),
    Kind(
        name="sql",
        summary="the first value of `query` meets `expect` (truthy when no `expect`)",
        params={
            "url": _URL,
            "query": _REQUIRED_TEXT,
            "expect": Param(read=read_condition),
            "params": Param(read=read_mapping),
        },
    ),
)

_NETWORK_KINDS = (
    Kind(
        name="http",
        summary="the URL answers one of `status` within `max_latency_ms`",
        params={
            "url": Param(read=read_text, required=True),
            "method": Param(read=_method, default="GET"),
            "status": Param(read=_statuses, default=[200]),
            "max_latency_ms": Param(read=_POSITIVE),
            "headers": Param(read=read_string_map),
        },
    ),
    Kind(
        name="tcp",
        summary="a TCP connection to host:port opens",
        params={"host": _REQUIRED_TEXT, "port": Param(read=read_port, required=True)},
    ),
    Kind(
        name="redis",
        summary="Redis answers PING with PONG",
        params={
            "host": Param(read=read_text, default="127.0.0.1"),
            "port": Param(read=read_port, default=6379),
            "password": _TEXT,
        },
    ),
    Kind(
        name="prometheus_up",
        summary="Prometheus is ready; with `job`, every target of the job is up",
        params={"url": Param(read=read_text, required=True), "job": _TEXT},
    ),
)

_HOST_KINDS = (
    Kind(
        name="backup_recent",
        summary="the newest backup (a file in `path`, or `command`'s timestamp) is recent",
        params={
            "max_age_hours": Param(read=_POSITIVE, required=True),
            "path": _TEXT,
            "pattern": Param(read=read_text, default="*"),
            "command": Param(read=read_command),
        },
        rule=_one_of("path", "command"),
    ),
    Kind(
        name="disk_space",
        summary="the file system of `path` has enough free space",
        params={
            "path": Param(read=read_text, default="."),
            "min_free_gb": Param(read=read_number),
            "min_free_percent": Param(read=partial(read_number, minimum=0.0)),
        },
        rule=_any_of("min_free_gb", "min_free_percent"),
    ),
    Kind(
        name="command",
        summary="a command exits 0 (no shell; `severity: warn` makes a failure a warning)",
        params={
            "run": Param(read=read_command, required=True),
            "cwd": _TEXT,
            "env": Param(read=read_string_map),
        },
    ),
    Kind(
        name="python",
        summary="a callable by import path returns true, a status, or a finding",
        params={"target": Param(read=read_target, required=True), "args": Param(read=read_mapping)},
    ),
)

_STORE_KINDS = (
    Kind(
        name="metric_baseline",
        summary="a metric has data in rheostat's metric windows now",
        params={
            "environment": _REQUIRED_TEXT,
            "flag": _REQUIRED_TEXT,
            "metric": _REQUIRED_TEXT,
            "variant": _TEXT,
            "within": _WITHIN,
            "min_n": _MIN_N,
        },
        reach=Reach.STORE,
    ),
    Kind(
        name="flags_defined",
        summary="the named flags exist in the environment",
        params={
            "environment": _REQUIRED_TEXT,
            "flags": Param(read=read_string_list, required=True),
            "enabled": Param(read=read_bool),
        },
        reach=Reach.STORE,
    ),
)

PLAN_KINDS = (
    Kind(
        name="plan_rollback",
        summary="a plan's rollback can run: its flag's previous version restores, old tables exist",
        params={
            "environment": _REQUIRED_TEXT,
            "plan": _REQUIRED_TEXT,
            "tables": Param(read=read_string_list),
            "url": _URL,
        },
        reach=Reach.STORE,
    ),
    Kind(
        name="plan_gate_data",
        summary="every metric a plan's gates read has data now",
        params={
            "environment": _REQUIRED_TEXT,
            "plan": _REQUIRED_TEXT,
            "within": _WITHIN,
            "min_n": _MIN_N,
        },
        reach=Reach.STORE,
    ),
)
"""Checks of a release plan itself; in a plan's ``check`` stage they need no parameters."""

BUILTIN_KINDS: Mapping[str, Kind] = {
    kind.name: kind
    for kind in (*_DATABASE_KINDS, *_NETWORK_KINDS, *_HOST_KINDS, *_STORE_KINDS, *PLAN_KINDS)
}
"""Every built-in kind by name."""
