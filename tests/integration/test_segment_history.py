"""Segment versions: a restored flag gets back the segments it tested, as they were.

Issue 9: "Restoring a flag must bring back the segments it used as they were. Store what a
flag version depends on so that restore and replay are exact." On SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, text

from rheostat import Context, FlagSet, service
from rheostat.errors import NotFound
from rheostat.service import AuditAction, Change, SqlStore, transact
from rheostat.store.schema import alembic_config, upgrade_to_head

ENV = "production"


def _pilots(*orgs: str) -> dict[str, Any]:
    return {"conditions": [{"attribute": "org", "op": "in", "values": list(orgs)}]}


PILOT_FLAG: dict[str, Any] = {
    "rules": [
        {"when": [{"attribute": "org", "op": "in_segment", "values": ["pilots"]}], "serve": "on"}
    ]
}


@pytest.fixture
def production(store: SqlStore) -> SqlStore:
    transact(store, service.create_environment, ENV, change=Change(actor="setup"))
    return store


def _served(store: SqlStore, org: str) -> bool:
    document = transact(store, service.snapshot, ENV).document
    return FlagSet.from_dict(document).is_enabled(
        "pilot", Context(key="u", attributes={"org": org})
    )


def test_restoring_a_flag_brings_back_the_segments_it_tested(production: SqlStore) -> None:
    # Given a flag for the pilot orgs 17 and 42 (flag version 1, segment version 1)
    transact(production, service.create_segment, ENV, "pilots", _pilots("org-17", "org-42"),
             change=Change(actor="alice"))  # fmt: skip
    transact(production, service.create_flag, ENV, "pilot", PILOT_FLAG, change=Change(actor="a"))
    # ... then the segment is narrowed to org 99 and the flag is killed
    transact(production, service.update_segment, ENV, "pilots", _pilots("org-99"),
             change=Change(actor="bob", expected_version=1))  # fmt: skip
    transact(production, service.kill_flag, ENV, "pilot", change=Change(actor="oncall"))
    assert not _served(production, "org-17")

    # When the flag is restored to version 1
    restored = transact(production, service.restore_flag, ENV, "pilot", 1,
                        change=Change(actor="carol", expected_version=2))  # fmt: skip

    # Then it serves exactly what version 1 served: the segment is back as it was then
    assert restored.version == 3
    assert _served(production, "org-17")
    assert _served(production, "org-42")
    assert not _served(production, "org-99")
    segment = transact(production, service.get_segment, ENV, "pilots")
    assert segment.version == 3
    assert segment.definition["conditions"][0]["values"] == ["org-17", "org-42"]
    history = transact(production, service.segment_history, ENV, "pilots")
    assert [(v.version, v.action) for v in history] == [
        (3, AuditAction.SEGMENT_RESTORED),
        (2, AuditAction.SEGMENT_UPDATED),
        (1, AuditAction.SEGMENT_CREATED),
    ]
    assert history[0].reason == "restore version 1"
    versions = transact(production, service.flag_history, ENV, "pilot")
    assert versions[-1].segments == {"pilots": 1}
    assert versions[0].segments == {"pilots": 3}
    events = transact(production, service.list_audit_events, subject="segment:pilots")
    assert events[0].action == AuditAction.SEGMENT_RESTORED
    assert events[0].actor == "carol"


def test_a_restore_brings_back_a_deleted_segment_and_continues_its_history(
    production: SqlStore,
) -> None:
    # Given a flag that tested a segment, then was changed to stop testing it, which was deleted
    transact(production, service.create_segment, ENV, "pilots", _pilots("org-17"),
             change=Change(actor="a"))  # fmt: skip
    transact(production, service.create_flag, ENV, "pilot", PILOT_FLAG, change=Change(actor="a"))
    transact(production, service.update_flag, ENV, "pilot", {"description": "everyone off"},
             change=Change(actor="a", expected_version=1))  # fmt: skip
    transact(production, service.delete_segment, ENV, "pilots", change=Change(actor="a"))

    # When the flag is restored to version 1
    transact(production, service.restore_flag, ENV, "pilot", 1,
             change=Change(actor="a", expected_version=2))  # fmt: skip

    # Then the segment exists again, at version 3 (1 created, 2 deleted, 3 restored)
    assert _served(production, "org-17")
    history = transact(production, service.segment_history, ENV, "pilots")
    assert [(v.version, v.deleted) for v in history] == [(3, False), (2, True), (1, False)]


def test_a_restore_leaves_a_segment_at_its_pinned_version_alone(production: SqlStore) -> None:
    # Given a flag whose segment never changed
    transact(production, service.create_segment, ENV, "pilots", _pilots("org-17"),
             change=Change(actor="a"))  # fmt: skip
    transact(production, service.create_flag, ENV, "pilot", PILOT_FLAG, change=Change(actor="a"))
    transact(production, service.kill_flag, ENV, "pilot", change=Change(actor="a"))

    # When it is restored
    transact(production, service.restore_flag, ENV, "pilot", 1,
             change=Change(actor="a", expected_version=2))  # fmt: skip

    # Then the segment was not rewritten
    assert transact(production, service.get_segment, ENV, "pilots").version == 1


def test_the_history_of_a_segment_that_never_existed_is_not_found(production: SqlStore) -> None:
    with pytest.raises(NotFound, match="never existed"):
        transact(production, service.segment_history, ENV, "ghost")


def test_every_change_of_flags_or_segments_raises_the_environment_revision(
    production: SqlStore,
) -> None:
    # Given the revision after set-up
    def revision() -> int:
        with production.reading() as uow:
            return uow.environments.revision_of(ENV)

    start = revision()

    # When a segment and a flag change in one transaction, then a flag alone
    with production.unit_of_work() as uow:
        service.create_segment(uow, ENV, "pilots", _pilots("org-1"), change=Change(actor="a"))
        service.create_flag(uow, ENV, "pilot", PILOT_FLAG, change=Change(actor="a"))
    after_one = revision()
    transact(production, service.kill_flag, ENV, "pilot", change=Change(actor="a"))

    # Then each committed transaction that changed the flag set counts once
    assert after_one == start + 1
    assert revision() == start + 2


def _upgrade_to(engine: Engine, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def test_migration_0003_keeps_existing_segments_as_their_first_recorded_version(
    store_url: str,
) -> None:
    # Given a database at revision 0002 with a segment at version 2
    engine = create_engine(service.normalize_database_url(store_url))
    try:
        _upgrade_to(engine, "0002")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO environments (key, name, description, version, created_at,"
                    " updated_at) VALUES ('production', 'production', '', 1,"
                    " '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO segments (environment_id, key, definition, version, created_at,"
                    " updated_at) SELECT id, 'pilots', :definition, 2, '2026-01-01 00:00:00',"
                    " '2026-01-02 00:00:00' FROM environments"
                ),
                {"definition": '{"conditions": []}'},
            )

        # When it is migrated to the head
        upgrade_to_head(engine)
    finally:
        engine.dispose()

    # Then the segment's history starts at its current version
    store = service.open_store(store_url)
    try:
        history = transact(store, service.segment_history, ENV, "pilots")
    finally:
        store.close()
    assert [(v.version, v.definition) for v in history] == [(2, {"conditions": []})]
