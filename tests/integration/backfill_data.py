"""Tables and rows for the backfill tests (and the resumability test's subprocesses)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, text

from rheostat.service import normalize_database_url

JOB = """
backfill: {name}
source: {{url: "{source}", table: documents, key: id}}
target: {{url: "{target}", table: documents_search, key: id}}
columns: {{id: id, title: title, body_length: "length(body)"}}
batch: {{size: {size}, target_seconds: {target_seconds}}}
"""


def job_text(
    source: str, target: str, *, name: str = "docs", size: int = 100, target_seconds: float = 0
) -> str:
    """A job copying documents into documents_search."""
    return JOB.format(
        name=name, source=source, target=target, size=size, target_seconds=target_seconds
    )


def create_source(url: str, rows: int) -> None:
    """``documents`` with ``rows`` rows (ids 1..rows, with gaps every 7th id)."""
    engine = create_engine(normalize_database_url(url))
    with engine.begin() as connection:
        connection.execute(
            text("CREATE TABLE documents (id BIGINT PRIMARY KEY, title TEXT, body TEXT)")
        )
        batch: list[dict[str, Any]] = []
        for number in range(1, rows + rows // 6 + 2):
            if number % 7 == 0:
                continue
            body = None if number % 11 == 0 else "x" * (number % 97)
            batch.append({"id": number, "title": f"title {number}", "body": body})
            if len(batch) == rows:
                break
        connection.execute(
            text("INSERT INTO documents (id, title, body) VALUES (:id, :title, :body)"), batch
        )
    engine.dispose()


def create_target(url: str, *, unique: bool = True) -> None:
    """An empty ``documents_search``."""
    engine = create_engine(normalize_database_url(url))
    key = "PRIMARY KEY" if unique else ""
    with engine.begin() as connection:
        connection.execute(
            text(f"CREATE TABLE documents_search (id BIGINT {key}, title TEXT, body_length BIGINT)")
        )
    engine.dispose()


def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows of one query."""
    engine = create_engine(normalize_database_url(url))
    with engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(text(sql))]
    engine.dispose()
    return rows


def execute(url: str, sql: str) -> None:
    """Run one statement and commit."""
    engine = create_engine(normalize_database_url(url))
    with engine.begin() as connection:
        connection.execute(text(sql))
    engine.dispose()


EXPECTED = (
    "SELECT id, title, length(body) FROM documents ORDER BY id",
    "SELECT id, title, body_length FROM documents_search ORDER BY id",
)


LOAD_READINGS: list[float] = []
"""What ``load_probe`` returns, first to last; 0 once empty."""


def load_probe() -> float:
    """A throttle probe (``callable: backfill_data:load_probe``) read from ``LOAD_READINGS``."""
    return LOAD_READINGS.pop(0) if LOAD_READINGS else 0.0


def fragile(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A transform (``transform: backfill_data:fragile``) that copies batches of up to 500
    rows and raises on more: a verify, which reads a whole chunk, cannot run."""
    if len(rows) > 500:
        raise ValueError(f"fragile transform: {len(rows)} rows at once")
    return rows
