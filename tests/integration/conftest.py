"""Fixtures of the integration tests that talk to a real ``rheostat serve`` process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from live_servers import Keys, LiveServer, prepare_database, start_server


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
