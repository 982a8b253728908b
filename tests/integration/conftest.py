"""Fixtures shared by the integration tests: API keys in ``store``, and a real
``rheostat serve`` process with its database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from live_servers import Keys, LiveServer, prepare_database, start_server

from rheostat import service
from rheostat.service import Change, SqlStore, transact


@pytest.fixture
def production_keys(store: SqlStore) -> dict[str, dict[str, str]]:
    """Environment ``production`` in ``store``, an admin key ``ops`` and an sdk key ``app``
    of it: their ``Authorization`` headers, by scope (``admin``, ``sdk``)."""
    transact(store, service.create_environment, "production", change=Change(actor="setup"))
    admin = transact(
        store, service.create_api_key, name="ops", scope="admin", change=Change(actor="s")
    )
    sdk = transact(
        store, service.create_api_key, name="app", scope="sdk", environment="production",
        change=Change(actor="s"),
    )  # fmt: skip
    return {
        "admin": {"Authorization": f"Bearer {admin.token}"},
        "sdk": {"Authorization": f"Bearer {sdk.token}"},
    }


@pytest.fixture(scope="module")
def live_database(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Keys]:
    """A SQLite file for the module, migrated, with ``production`` and its keys."""
    url = f"sqlite:///{tmp_path_factory.mktemp('live') / 'rheostat.db'}"
    return url, prepare_database(url)


@pytest.fixture(scope="module")
def live_server(live_database: tuple[str, Keys]) -> Iterator[LiveServer]:
    """``rheostat serve`` on ``live_database`` for the module, on a free loopback port."""
    with start_server(live_database[0]) as live:
        yield live
