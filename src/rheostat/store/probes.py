"""The database check kinds: ``database_reachable``, ``schema``, ``index_used`` and ``sql``.

Each check opens its own short-lived engine (no pool) on its ``url``, or on rheostat's own
database when it names none, so checks run in parallel threads without sharing a session.
Reads only: every transaction is READ ONLY (``PRAGMA query_only`` on SQLite) with the check's
timeout as the statement timeout on PostgreSQL, and is rolled back. A SQLite file that does
not exist is a failure, never created.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, inspect, make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from rheostat.checks import CheckSpec, Finding, Probe
from rheostat.checks.conditions import describe, meets
from rheostat.errors import ConfigurationError
from rheostat.store.database import normalize_database_url
from rheostat.store.schema import current_revision, head_revision

__all__ = ["database_probes", "missing_tables"]

_PLAN_SHOWN = 2000


def database_probes(own_url: str) -> dict[str, Probe]:
    """The database kinds' probes; a check without ``url`` reads ``own_url``."""

    def bind(probe: Callable[[Connection, CheckSpec, bool], Finding]) -> Probe:
        def run(check: CheckSpec) -> Finding:
            url = check.params.get("url") or own_url
            try:
                with _reading(url, check.timeout_seconds) as connection:
                    return probe(connection, check, "url" not in check.params)
            except (SQLAlchemyError, ConfigurationError, OSError) as error:
                return Finding.failed(
                    f"the database failed: {_first_line(error)}", database=_shown_url(url)
                )

        return run

    return {
        "database_reachable": bind(_reachable),
        "schema": bind(_schema),
        "index_used": bind(_index_used),
        "sql": bind(_sql),
    }


def missing_tables(url: str, tables: list[str], timeout_seconds: float) -> list[str]:
    """The tables of ``tables`` that ``url``'s database lacks.

    Raises:
        SQLAlchemyError, ConfigurationError, OSError: the database cannot be read.
    """
    with _reading(url, timeout_seconds) as connection:
        present = set(inspect(connection).get_table_names())
    return [table for table in tables if table not in present]


@contextmanager
def _reading(url: str, timeout_seconds: float) -> Iterator[Connection]:
    normalized = normalize_database_url(url)
    parsed = make_url(normalized)
    sqlite = parsed.get_backend_name() == "sqlite"
    on_disk = sqlite and parsed.database and parsed.database != ":memory:"
    if on_disk and not Path(str(parsed.database)).is_file():
        raise ConfigurationError(f"no SQLite database at {parsed.database}")
    connect_args: dict[str, Any] = (
        {"timeout": timeout_seconds}
        if sqlite
        else {"connect_timeout": max(1, math.ceil(timeout_seconds))}
    )
    engine = create_engine(normalized, poolclass=NullPool, connect_args=connect_args)
    try:
        with engine.connect() as connection:
            if sqlite:
                connection.exec_driver_sql("PRAGMA query_only = 1")
                connection.commit()  # the pragma began a transaction of its own
            transaction = connection.begin()
            if not sqlite:
                connection.exec_driver_sql("SET TRANSACTION READ ONLY")
                milliseconds = max(1, int(timeout_seconds * 1000))
                connection.exec_driver_sql(f"SET LOCAL statement_timeout = {milliseconds}")
            try:
                yield connection
            finally:
                transaction.rollback()
    finally:
        engine.dispose()


def _reachable(connection: Connection, check: CheckSpec, own: bool) -> Finding:
    connection.execute(text("SELECT 1"))
    dialect = connection.dialect.name
    version = connection.execute(
        text("SHOW server_version" if dialect == "postgresql" else "SELECT sqlite_version()")
    ).scalar()
    where = "rheostat's database" if own else _shown_url(str(check.params["url"]))
    return Finding.passed(
        f"{where} answers ({dialect} {version})", dialect=dialect, version=str(version)
    )


def _schema(connection: Connection, check: CheckSpec, own: bool) -> Finding:
    inspector = inspect(connection)
    tables = set(inspector.get_table_names())
    params = check.params
    missing: dict[str, Any] = {}
    if absent := [table for table in params.get("tables", []) if table not in tables]:
        missing["tables"] = absent
    for field, names_of in (("columns", _column_names), ("indexes", _index_names)):
        gaps = {
            table: [name for name in wanted if name not in names_of(inspector, table, tables)]
            for table, wanted in params.get(field, {}).items()
        }
        if gaps := {table: names for table, names in gaps.items() if names}:
            missing[field] = gaps
    evidence: dict[str, Any] = {}
    if "alembic" in params:
        problem, evidence = _alembic(connection, check, own)
        if problem:
            missing["alembic"] = problem
    if missing:
        return Finding.failed(f"missing: {_listed(missing)}", missing=missing, **evidence)
    return Finding.passed("every table, column, index and revision asked for is there", **evidence)


def _column_names(inspector: Any, table: str, tables: set[str]) -> set[str]:
    if table not in tables:
        return set()
    return {str(column["name"]) for column in inspector.get_columns(table)}


def _index_names(inspector: Any, table: str, tables: set[str]) -> set[str]:
    if table not in tables:
        return set()
    names = {str(index["name"]) for index in inspector.get_indexes(table)}
    names |= {str(unique["name"]) for unique in inspector.get_unique_constraints(table)}
    primary = inspector.get_pk_constraint(table).get("name")
    return names | ({str(primary)} if primary else set())


def _alembic(connection: Connection, check: CheckSpec, own: bool) -> tuple[str, dict[str, Any]]:
    wanted = str(check.params["alembic"])
    scripts = check.params.get("alembic_scripts")
    if wanted == "head":
        if scripts:
            heads = ScriptDirectory(scripts).get_heads()
            wanted = heads[0] if len(heads) == 1 else ",".join(sorted(heads))
        elif own:
            wanted = head_revision()
        else:
            return "'head' of another database needs alembic_scripts (its migrations folder)", {}
    current = current_revision(connection)
    evidence = {"alembic_current": current, "alembic_expected": wanted}
    if current != wanted:
        return f"revision {current or 'none'} applied, {wanted} expected", evidence
    return "", evidence


def _index_used(connection: Connection, check: CheckSpec, own: bool) -> Finding:
    query, index = str(check.params["query"]), str(check.params["index"])
    params = dict(check.params.get("params") or {})
    if connection.dialect.name == "postgresql":
        plan = connection.execute(text(f"EXPLAIN (FORMAT JSON) {query}"), params).scalar()
        document = json.loads(plan) if isinstance(plan, str) else plan
        used = sorted(_pg_indexes(document))
        shown = json.dumps(document)
    else:
        rows = connection.execute(text(f"EXPLAIN QUERY PLAN {query}"), params).all()
        details = [str(row[-1]) for row in rows]
        used = sorted(
            {found[1] for line in details if (found := _SQLITE_INDEX.search(line)) is not None}
        )
        shown = "\n".join(details)
    evidence = {"index": index, "indexes_used": used, "plan": shown[:_PLAN_SHOWN]}
    if index not in used:
        return Finding.failed(
            f"the query does not use {index} (it uses {', '.join(used) or 'no index'})", **evidence
        )
    return Finding.passed(f"the query uses {index}", **evidence)


_SQLITE_INDEX = re.compile(r"USING (?:COVERING )?INDEX (\S+)")


def _pg_indexes(node: Any) -> Iterator[str]:
    if isinstance(node, Mapping):
        if "Index Name" in node:
            yield str(node["Index Name"])
        for child in node.values():
            yield from _pg_indexes(child)
    elif isinstance(node, list):
        for child in node:
            yield from _pg_indexes(child)


def _sql(connection: Connection, check: CheckSpec, own: bool) -> Finding:
    params = dict(check.params.get("params") or {})
    row = connection.execute(text(str(check.params["query"])), params).first()
    value = None if row is None else row[0]
    shown = _jsonable(value)
    condition = check.params.get("expect")
    if condition is None:
        if value:
            return Finding.passed(f"the query returned {shown!r}", value=shown)
        return Finding.failed(f"the query returned {shown!r}, not a true value", value=shown)
    evidence = {"value": shown, "expect": describe(condition)}
    if meets(condition, value):
        return Finding.passed(f"{shown!r} {describe(condition)} holds", **evidence)
    return Finding.failed(
        f"the query returned {shown!r}; expected {describe(condition)}", **evidence
    )


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _listed(missing: Mapping[str, Any]) -> str:
    return "; ".join(f"{field} {json.dumps(value)}" for field, value in missing.items())


def _shown_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except SQLAlchemyError:
        return "an unreadable URL"


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
