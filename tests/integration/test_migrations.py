"""Schema migrations: from the installed package, idempotent, equal to the models."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from rheostat.errors import ConfigurationError
from rheostat.service import migrate_database, normalize_database_url, open_store
from rheostat.store.schema import head_revision
from rheostat.store.tables import Base

VERSIONS = Path(__file__).parents[2] / "src" / "rheostat" / "store" / "migrations" / "versions"


def _schema(url: str) -> dict[str, object]:
    engine = create_engine(normalize_database_url(url))
    try:
        inspector = inspect(engine)
        return {
            table: (
                [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
                sorted(str(i["name"]) for i in inspector.get_indexes(table)),
                sorted(str(u["name"]) for u in inspector.get_unique_constraints(table)),
            )
            for table in sorted(inspector.get_table_names())
        }
    finally:
        engine.dispose()


def test_migrating_twice_applies_once_and_changes_nothing(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an empty database, and a working directory without any alembic.ini
    monkeypatch.chdir(tmp_path)

    # When it is migrated twice
    first = migrate_database(store_url)
    schema_after_first = _schema(store_url)
    second = migrate_database(store_url)

    # Then the first run applied every revision, the second none, and the schema is the same
    shipped = sorted(VERSIONS.glob("r[0-9][0-9][0-9][0-9]_*.py"))
    assert first == [f"{number:04d}" for number in range(1, len(shipped) + 1)]
    assert first[-1] == head_revision()
    assert second == []
    assert _schema(store_url) == schema_after_first
    assert "flag_versions" in schema_after_first


def test_migrated_schema_matches_the_models(store_url: str) -> None:
    # Given a migrated database
    migrate_database(store_url)

    # When Alembic compares it with the SQLAlchemy models
    engine = create_engine(normalize_database_url(store_url))
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()

    # Then there is nothing a new migration would have to do
    assert differences == []


def test_store_reports_the_revision_it_is_at(store_url: str) -> None:
    # Given a store on an empty database
    store = open_store(store_url)

    # When it is checked before and after migrating
    before = store.schema_revision()
    migrate_database(store_url)
    after = store.schema_revision()
    store.close()

    # Then it was empty, then at head
    assert before is None
    assert after == head_revision()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@db:5432/rheostat", "postgresql+psycopg://u:p@db:5432/rheostat"),
        ("postgres://u@db/rheostat", "postgresql+psycopg://u@db/rheostat"),
        ("postgresql+psycopg://u@db/rheostat", "postgresql+psycopg://u@db/rheostat"),
        ("sqlite:///./rheostat.db", "sqlite:///./rheostat.db"),
    ],
)
def test_database_urls_are_spelled_for_psycopg_3(given: str, expected: str) -> None:
    # Given / When / Then
    assert normalize_database_url(given) == expected


@pytest.mark.parametrize("url", ["", "mysql://u@db/rheostat", "not a url"])
def test_unsupported_database_urls_are_refused(url: str) -> None:
    # Given an unusable URL / When it is opened / Then the error says what is wrong
    with pytest.raises(ConfigurationError, match="database URL"):
        open_store(url)


def test_migrating_into_a_missing_folder_names_the_folder(tmp_path: Path) -> None:
    # Given a SQLite path inside a directory that does not exist
    url = f"sqlite:///{tmp_path / 'missing' / 'rheostat.db'}"

    # When / Then
    with pytest.raises(ConfigurationError, match=r"its folder .*missing' does not exist"):
        migrate_database(url)
