"""Fields of definition documents (backfill jobs, migrations) are refused one way, by path."""

from __future__ import annotations

from typing import Any

import pytest

from rheostat.backfill import job_from_dict
from rheostat.errors import InvalidDefinition
from rheostat.inputs import (
    refuse_unknown_fields,
    require_database_url,
    require_mapping,
    require_number,
    require_whole_number,
)
from rheostat.migrate import migration_from_dict


def test_a_mapping_is_refused_by_path_and_by_what_was_given() -> None:
    with pytest.raises(InvalidDefinition) as nothing:
        require_mapping(None, "source")
    with pytest.raises(InvalidDefinition) as numbered:
        require_mapping({1: "a"}, "source")

    assert nothing.value.path == "source"
    assert nothing.value.reason == "must be a mapping, got nothing"
    assert numbered.value.reason == "keys must be strings, got 1"


def test_an_unknown_field_is_named_with_its_path_and_the_fields_in_their_order() -> None:
    with pytest.raises(InvalidDefinition) as nested:
        refuse_unknown_fields({"size": 1, "sise": 2}, ("size", "min_size"), "batch")
    with pytest.raises(InvalidDefinition) as top:
        refuse_unknown_fields({"colums": {}}, ("backfill", "columns"), "")

    assert nested.value.path == "batch.sise"
    assert nested.value.reason == "unknown field; expected one of size, min_size"
    assert top.value.path == "colums"


def test_a_database_url_keeps_its_variables_as_written_and_connects_with_their_values() -> None:
    template, url = require_database_url(
        "postgresql://app@${HOST}/app", "source.url", environ={"HOST": "db"}
    )

    assert (template, url) == ("postgresql://app@${HOST}/app", "postgresql://app@db/app")


@pytest.mark.parametrize(
    ("value", "environ", "reason"),
    [
        ("${MISSING}", {}, "environment variable MISSING is not set"),
        ("${HOST}/app", {"HOST": "db"}, "a database URL such as postgresql://host/db"),
        ("  ", {}, "must be a non-empty string, got '  '"),
    ],
)
def test_a_database_url_is_refused_at_its_path(
    value: str, environ: dict[str, str], reason: str
) -> None:
    with pytest.raises(InvalidDefinition) as refused:
        require_database_url(value, "old.url", environ=environ)

    assert (refused.value.path, refused.value.reason) == ("old.url", reason)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (True, "must be a number, got True"),
        (float("nan"), "must be a number, got nan"),
        ("5", "must be a number, got '5'"),
        (11, "must be between 0 and 10, got 11"),
    ],
)
def test_a_number_is_refused_unless_it_is_one_in_range(value: Any, reason: str) -> None:
    with pytest.raises(InvalidDefinition) as refused:
        require_number(value, "throttle.nice_ratio", minimum=0, maximum=10)

    assert refused.value.reason == reason


def test_a_whole_number_is_an_integer_in_range() -> None:
    assert require_whole_number(7, "batch.size", minimum=1, maximum=10) == 7
    with pytest.raises(InvalidDefinition, match=r"must be a whole number, got 2\.5"):
        require_whole_number(2.5, "batch.size", minimum=1, maximum=10)
    with pytest.raises(InvalidDefinition, match="must be between 1 and 10, got 0"):
        require_whole_number(0, "batch.size", minimum=1, maximum=10)


def test_a_backfill_job_and_a_migration_refuse_a_bad_table_name_alike() -> None:
    # Given a job and a migration naming the same impossible table
    job = {
        "backfill": "copy",
        "source": {"url": "sqlite:///a.db", "table": "no such table", "key": "id"},
        "target": {"url": "sqlite:///a.db", "table": "b", "key": "id"},
        "columns": {"id": "id"},
    }
    migration = {
        "migration": "copy",
        "old": {"url": "sqlite:///a.db", "table": "no such table"},
        "new": {"table": "b"},
        "columns": ["id"],
    }

    # When both are read
    with pytest.raises(InvalidDefinition) as job_error:
        job_from_dict(job, {})
    with pytest.raises(InvalidDefinition) as migration_error:
        migration_from_dict(migration, {})

    # Then both give the one reason, at their own paths
    assert (job_error.value.path, migration_error.value.path) == ("source.table", "old.table")
    assert job_error.value.reason == migration_error.value.reason == "a table name, or schema.table"


def test_a_migration_that_is_not_a_mapping_names_the_document() -> None:
    with pytest.raises(InvalidDefinition) as refused:
        migration_from_dict(["old", "new"], {})

    assert refused.value.path == "<document>"
    assert refused.value.reason == "must be a mapping, got list"
