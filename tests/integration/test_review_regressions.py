"""Regressions from the code review of the flag management service.

Each test shows one finding: a reordered split that was dropped, an environment deleted with
its experiments, results "now" that a replay contradicted, racing managers, restores over a
change the caller never saw, segment edits invisible in a flag's trail, NUL bytes that reached
PostgreSQL, and bad input from Python callers that ended in a traceback.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, event, select, text
from typer.testing import CliRunner, Result

from rheostat import service
from rheostat.cli import app
from rheostat.clock import FixedClock
from rheostat.errors import Conflict, InvalidDefinition, RheostatError, ValidationError
from rheostat.experiments import Arm, Experiment, MetricSpec
from rheostat.facade import FeatureFlagManager
from rheostat.service import AuditAction, Exposure, SqlStore
from rheostat.store.tables import ExperimentExposureRow

ENV = "production"
ON_OFF = {"variants": {"on": True, "off": False}, "default": "off"}
PILOT = {"conditions": [{"attribute": "org", "op": "in", "values": ["org-1"]}]}


def _split_flag(split: dict[str, float]) -> dict[str, Any]:
    return {**ON_OFF, "rules": [{"serve": {"split": split}}]}


def _production(store: SqlStore) -> None:
    service.transact(store, service.create_environment, ENV, change=service.Change(actor="setup"))


def _running_experiment(store: SqlStore, environment: str = ENV) -> None:
    experiment = Experiment(
        key="exp",
        arms=(Arm(name="control", weight_percent=50), Arm(name="treatment", weight_percent=50)),
        metrics=(MetricSpec(name="latency"),),
    )
    service.transact(
        store,
        service.create_experiment,
        environment,
        experiment,
        change=service.Change(actor="setup"),
    )
    service.transact(
        store, service.start_experiment, environment, "exp", change=service.Change(actor="setup")
    )


def _first_seen(store: SqlStore, unit: str) -> datetime:
    with store.session() as session:
        statement = select(ExperimentExposureRow.first_seen).where(
            ExperimentExposureRow.unit == unit
        )
        return session.scalars(statement).one()


@pytest.fixture
def sqlite_store(sqlite_url: str, clock: FixedClock) -> Iterator[SqlStore]:
    """A migrated SQLite store, for checks made before the database is reached."""
    service.migrate_database(sqlite_url)
    opened = service.open_store(sqlite_url, clock=clock)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def postgres_store(postgres_url: str, clock: FixedClock) -> Iterator[SqlStore]:
    """A migrated PostgreSQL store, for row-locking behaviour SQLite does not have."""
    service.migrate_database(postgres_url)
    opened = service.open_store(postgres_url, clock=clock)
    try:
        yield opened
    finally:
        opened.close()


# 1. A change that only reorders a split --------------------------------------------------------


def test_an_update_that_only_reorders_a_split_writes_a_new_version(store: SqlStore) -> None:
    # Given a flag splitting on 30 / off 70 (bucket ranges follow the split's key order)
    _production(store)
    service.transact(
        store,
        service.create_flag,
        ENV,
        "x",
        _split_flag({"on": 30, "off": 70}),
        change=service.Change(actor="alice"),
    )

    # When the same shares are written in the other order
    updated = service.transact(
        store,
        service.update_flag,
        ENV,
        "x",
        _split_flag({"off": 70, "on": 30}),
        change=service.Change(actor="bob", expected_version=1),
    )

    # Then it is a new version, and the stored split keeps the new order
    stored = service.transact(store, service.get_flag, ENV, "x")
    assert updated.version == 2
    assert list(stored.definition["rules"][0]["serve"]["split"]) == ["off", "on"]


def test_an_import_that_only_reorders_a_split_updates_the_flag(store: SqlStore) -> None:
    # Given an exported environment whose flag splits on 30 / off 70
    _production(store)
    service.transact(
        store,
        service.create_flag,
        ENV,
        "x",
        _split_flag({"on": 30, "off": 70}),
        change=service.Change(actor="alice"),
    )
    document = service.transact(store, service.export_flags, ENV)

    # When the document comes back with the split reordered
    document["flags"]["x"]["rules"][0]["serve"]["split"] = {"off": 70.0, "on": 30.0}
    result = service.transact(
        store, service.import_flags, ENV, document, change=service.Change(actor="bob")
    )

    # Then the flag counts as updated and is stored in the new order
    stored = service.transact(store, service.get_flag, ENV, "x")
    assert result.updated == ("x",)
    assert result.unchanged == ()
    assert list(stored.definition["rules"][0]["serve"]["split"]) == ["off", "on"]


def test_an_identical_update_still_writes_nothing(store: SqlStore) -> None:
    # Given a flag
    _production(store)
    service.transact(
        store,
        service.create_flag,
        ENV,
        "x",
        _split_flag({"on": 30, "off": 70}),
        change=service.Change(actor="alice"),
    )

    # When the very same definition is written again
    same = service.transact(
        store,
        service.update_flag,
        ENV,
        "x",
        _split_flag({"on": 30, "off": 70}),
        change=service.Change(actor="bob", expected_version=1),
    )

    # Then nothing changed
    assert same.version == 1
    assert len(service.transact(store, service.flag_history, ENV, "x")) == 1


# 2. Deleting an environment that holds experiments --------------------------------------------


def test_an_environment_with_experiments_is_not_deleted(store: SqlStore) -> None:
    # Given an environment whose only content is a running experiment with exposures
    service.transact(
        store, service.create_environment, "staging", change=service.Change(actor="setup")
    )
    _running_experiment(store, "staging")
    service.transact(
        store,
        service.record_exposures,
        "staging",
        "exp",
        [Exposure(unit=f"u{i}") for i in range(5)],
    )

    # When the environment is deleted
    with pytest.raises(Conflict) as refused:
        service.transact(
            store, service.delete_environment, "staging", change=service.Change(actor="bob")
        )

    # Then it is refused, naming the experiments, and nothing is gone
    assert "1 experiments" in str(refused.value)
    assert refused.value.details["experiments"] == 1
    assert [e.key for e in service.transact(store, service.list_experiments, "staging")] == ["exp"]


# 3. Results "now" and the replay of the same moment ---------------------------------------------


def test_a_batch_is_stamped_once_its_transaction_has_the_database(
    store: SqlStore, clock: FixedClock
) -> None:
    # Given a running experiment, and a database that makes the next transaction wait 5 s
    _production(store)
    _running_experiment(store)
    asked_at = clock.now()

    def wait_for_the_write_lock(_connection: Connection) -> None:
        clock.advance(timedelta(seconds=5))

    # When a batch is recorded
    event.listen(store.engine, "begin", wait_for_the_write_lock, insert=True)
    try:
        service.transact(store, service.record_exposures, ENV, "exp", [Exposure(unit="late")])
    finally:
        event.remove(store.engine, "begin", wait_for_the_write_lock)

    # Then it carries the time it got the database, not the time it was asked for
    assert _first_seen(store, "late") == asked_at + timedelta(seconds=5)


def _wait_until_blocked(observer: Connection, blocked: threading.Thread) -> None:
    """Return once a PostgreSQL backend waits for a lock, or ``blocked`` has finished."""
    waiting = text("SELECT count(*) FROM pg_locks WHERE NOT granted")
    while blocked.is_alive() and not observer.execute(waiting).scalar():
        blocked.join(0.01)


@pytest.mark.postgres
def test_results_now_wait_for_a_batch_in_flight(
    postgres_store: SqlStore, clock: FixedClock
) -> None:
    # Given a running experiment with 10 units, and a batch in flight: it holds the experiment
    # and has written a unit stamped with its time, but has not committed yet
    store = postgres_store
    _production(store)
    _running_experiment(store)
    service.transact(
        store, service.record_exposures, ENV, "exp", [Exposure(unit=f"u{i}") for i in range(10)]
    )
    reports: list[service.ResultsReport] = []
    with store.engine.connect() as batch:
        batch.execute(text("SELECT id FROM experiments WHERE key = 'exp' FOR SHARE"))
        batch.execute(
            text(
                "INSERT INTO experiment_exposures (experiment_id, unit, arm, first_seen)"
                " SELECT id, 'late', 'control', :at FROM experiments WHERE key = 'exp'"
            ),
            {"at": clock.now()},
        )
        clock.advance(timedelta(seconds=1))

        # When results are computed now, and the batch commits meanwhile
        computing = threading.Thread(
            target=lambda: reports.append(
                service.transact(store, service.experiment_results, ENV, "exp")
            )
        )
        computing.start()
        _wait_until_blocked(batch, computing)
        batch.commit()
    computing.join()

    # Then the computation counted the batch, and a replay of its moment agrees with it
    replay = service.transact(
        store, service.experiment_results, ENV, "exp", at=reports[0].computed_at
    )
    assert sum(arm.units for arm in reports[0].results.arms) == 11
    assert replay.matches_stored is True


@pytest.mark.postgres
def test_a_batch_waiting_behind_a_results_computation_is_stamped_after_it(
    postgres_store: SqlStore, clock: FixedClock
) -> None:
    # Given a running experiment held by a results computation (FOR UPDATE)
    store = postgres_store
    _production(store)
    _running_experiment(store)
    with store.engine.connect() as computation:
        computation.execute(text("SELECT id FROM experiments WHERE key = 'exp' FOR UPDATE"))

        # When a batch arrives, waits, and the computation ends a second later
        recording = threading.Thread(
            target=service.transact,
            args=(store, service.record_exposures, ENV, "exp", [Exposure(unit="late")]),
        )
        recording.start()
        _wait_until_blocked(computation, recording)
        clock.advance(timedelta(seconds=1))
        released_at = clock.now()
        computation.commit()
    recording.join()

    # Then the batch is stamped with the time it got the experiment
    assert _first_seen(store, "late") == released_at


# 4. Managers creating the same flag at once -----------------------------------------------------


def test_a_manager_whose_new_flag_is_created_meanwhile_updates_it(
    store: SqlStore, store_url: str
) -> None:
    # Given a manager, and another one that creates the same flag right after the first looked
    manager = FeatureFlagManager(store=store, environment=ENV)
    other = service.open_store(store_url)
    armed = [True]

    def create_it_meanwhile(_dbapi_connection: Any, _record: Any) -> None:
        if armed:  # once: right after the first manager's look-up
            armed.clear()
            FeatureFlagManager(store=other, environment=ENV).set_flag("newflag", False)

    # When the first manager sets the flag it found missing
    event.listen(store.engine, "checkin", create_it_meanwhile)
    try:
        flag = manager.set_flag("newflag", rollout_percentage=40)
    finally:
        event.remove(store.engine, "checkin", create_it_meanwhile)
        other.close()

    # Then neither is refused: both changes are applied, one after the other (a put locks the
    # environment before it reads, so there is no window between look-up and write any more)
    assert flag.name == "newflag"
    history = service.transact(store, service.flag_history, ENV, "newflag")
    assert [version.version for version in history] == [2, 1]


# 5. Restores and replacements name the version the caller read ---------------------------------


def test_a_restore_over_a_change_the_caller_never_saw_is_refused(store: SqlStore) -> None:
    # Given a flag at version 2, after bob's fix
    _production(store)
    service.transact(
        store, service.create_flag, ENV, "x", ON_OFF, change=service.Change(actor="alice")
    )
    fixed = {**ON_OFF, "description": "bob's fix"}
    service.transact(
        store,
        service.update_flag,
        ENV,
        "x",
        fixed,
        change=service.Change(actor="bob", expected_version=1),
    )

    # When alice restores version 1 naming no version, or the version 1 she read
    with pytest.raises(ValidationError) as unnamed:
        service.transact(
            store,
            service.restore_flag,
            ENV,
            "x",
            1,
            change=service.Change(actor="alice", expected_version=None),
        )
    with pytest.raises(Conflict):
        service.transact(
            store,
            service.restore_flag,
            ENV,
            "x",
            1,
            change=service.Change(actor="alice", expected_version=1),
        )

    # Then both are refused and bob's fix stands; naming version 2 restores
    assert unnamed.value.details["field"] == "expected_version"
    assert (
        service.transact(store, service.get_flag, ENV, "x").definition["description"] == "bob's fix"
    )
    restored = service.transact(
        store,
        service.restore_flag,
        ENV,
        "x",
        1,
        change=service.Change(actor="alice", expected_version=2),
    )
    assert (restored.version, restored.definition["description"]) == (3, "")


@pytest.mark.parametrize(
    "replace",
    [
        lambda store: service.transact(
            store,
            service.update_segment,
            ENV,
            "pilot",
            PILOT,
            change=service.Change(actor="alice", expected_version=None),
        ),
    ],
    ids=["segment"],
)
def test_a_replacement_without_a_version_is_refused(
    store: SqlStore, replace: Callable[[SqlStore], object]
) -> None:
    # Given an environment with a segment
    _production(store)
    service.transact(
        store, service.create_segment, ENV, "pilot", PILOT, change=service.Change(actor="setup")
    )

    # When it is replaced naming no version
    with pytest.raises(ValidationError) as refused:
        replace(store)

    # Then it is refused, naming the field
    assert refused.value.details["field"] == "expected_version"


@pytest.fixture
def rheostat(store_url: str) -> Callable[..., Result]:
    """Run ``rheostat ARGS`` on a migrated, empty database."""
    runner = CliRunner(env={"RHEOSTAT_DATABASE_URL": store_url, "RHEOSTAT_ENV": None})

    def run(*args: str) -> Result:
        return runner.invoke(app, list(args))

    assert run("migrate-db").exit_code == 0
    return run


def test_the_cli_restores_the_version_its_user_just_saw(rheostat: Callable[..., Result]) -> None:
    # Given a flag at version 2
    assert rheostat("env", "create", "production").exit_code == 0
    assert rheostat("flags", "set", "x").exit_code == 0
    assert rheostat("flags", "rollout", "x", "10").exit_code == 0

    # When version 1 is restored without, then with a stale, --expected-version
    restored = rheostat("flags", "restore", "x", "1")
    stale = rheostat("flags", "restore", "x", "1", "--expected-version", "2")

    # Then the first restores (version 3), the stale one is a conflict (exit 1)
    assert restored.exit_code == 0, restored.output
    assert "version 3" in restored.output
    assert stale.exit_code == 1
    assert "conflict" in stale.output.lower() or "changed" in stale.output


# 6. Segment edits change flags without a flag version ------------------------------------------


def test_a_segment_edit_is_in_the_audit_trail_of_every_flag_using_it(store: SqlStore) -> None:
    # Given a flag on for the pilot segment, and a flag that does not use it
    _production(store)
    service.transact(
        store, service.create_segment, ENV, "pilot", PILOT, change=service.Change(actor="setup")
    )
    in_pilot = [{"attribute": "org", "op": "in_segment", "values": ["pilot"]}]
    service.transact(
        store,
        service.create_flag,
        ENV,
        "x",
        {**ON_OFF, "rules": [{"when": in_pilot, "serve": "on"}]},
        change=service.Change(actor="alice"),
    )
    service.transact(
        store, service.create_flag, ENV, "y", ON_OFF, change=service.Change(actor="alice")
    )

    # When bob changes the segment
    org_2 = {"conditions": [{"attribute": "org", "op": "in", "values": ["org-2"]}]}
    service.transact(
        store,
        service.update_segment,
        ENV,
        "pilot",
        org_2,
        change=service.Change(actor="bob", expected_version=1),
    )

    # Then flag x's audit trail says so (segment, versions, who); y's does not
    events = service.transact(store, service.list_audit_events, subject="flag:x")
    unrelated = service.transact(store, service.list_audit_events, subject="flag:y")
    assert events[0].action is AuditAction.FLAG_SEGMENT_CHANGED
    assert events[0].actor == "bob"
    assert events[0].before is not None
    assert events[0].after is not None
    assert (events[0].before["segment"], events[0].before["version"]) == ("pilot", 1)
    assert events[0].after["version"] == 2
    assert [e.action for e in unrelated] == [AuditAction.FLAG_CREATED]


# 7. NUL and control characters ------------------------------------------------------------------

_REFUSED_TEXT: list[tuple[str, Callable[[SqlStore], object]]] = [
    ("flag", lambda s: service.transact(s, service.get_flag, ENV, "a\x00b")),
    ("environment", lambda s: service.transact(s, service.get_environment, "prod\x00")),
    ("environment", lambda s: service.transact(s, service.list_flags, "prod\x00")),
    ("segment", lambda s: service.transact(s, service.get_segment, ENV, "seg\x00")),
    ("experiment", lambda s: service.transact(s, service.get_experiment, ENV, "exp\x00")),
    (
        "reason",
        lambda s: service.transact(
            s,
            service.create_flag,
            ENV,
            "x",
            ON_OFF,
            change=service.Change(actor="me", reason="why\x00"),
        ),
    ),
    (
        "actor",
        lambda s: service.transact(
            s, service.create_flag, ENV, "x", ON_OFF, change=service.Change(actor="me\x00")
        ),
    ),
    (
        "actor",
        lambda s: service.transact(
            s, service.create_flag, ENV, "x", ON_OFF, change=service.Change(actor="me\nyou")
        ),
    ),
    (
        "name",
        lambda s: service.create_api_key(
            s, name="k\x00", scope="admin", change=service.Change(actor="me")
        ),
    ),
    ("id", lambda s: service.transact(s, service.get_api_key, "k\x00")),
    ("unit", lambda s: service.transact(s, service.assign_unit, ENV, "exp", "u\x00")),
    ("subject", lambda s: service.transact(s, service.list_audit_events, subject="flag:\x00")),
    (
        "name",
        lambda s: service.transact(
            s, service.update_environment, ENV, name="Prod\x07", change=service.Change(actor="me")
        ),
    ),
    (
        "description",
        lambda s: service.transact(
            s,
            service.update_environment,
            ENV,
            description="a\x00b",
            change=service.Change(actor="me"),
        ),
    ),
]


@pytest.mark.parametrize(
    ("field", "call"), _REFUSED_TEXT, ids=[f"{i}-{f}" for i, (f, _) in enumerate(_REFUSED_TEXT)]
)
def test_nul_and_control_characters_are_refused_naming_the_field(
    store: SqlStore, field: str, call: Callable[[SqlStore], object]
) -> None:
    # Given an environment
    _production(store)

    # When a key, name or text carries a NUL or a control character
    with pytest.raises(ValidationError) as refused:
        call(store)

    # Then it is refused naming the field (a 422, not a 503 from PostgreSQL)
    assert refused.value.details["field"] == field


def test_line_breaks_and_tabs_are_kept_in_reasons_and_descriptions(store: SqlStore) -> None:
    # Given an environment
    _production(store)

    # When a reason and a description span lines
    service.transact(
        store,
        service.create_flag,
        ENV,
        "x",
        ON_OFF,
        change=service.Change(actor="me", reason="why:\n\t- because"),
    )
    renamed = service.transact(
        store,
        service.update_environment,
        ENV,
        description="line 1\r\nline 2",
        change=service.Change(actor="me", expected_version=1),
    )

    # Then they are stored as given
    assert service.transact(store, service.flag_history, ENV, "x")[0].reason == "why:\n\t- because"
    assert renamed.description == "line 1\r\nline 2"


# 8. Bad input from Python callers ---------------------------------------------------------------


def _nested(depth: int) -> list[Any]:
    outer: list[Any] = []
    inner = outer
    for _ in range(depth):
        deeper: list[Any] = []
        inner.append(deeper)
        inner = deeper
    return outer


_BAD_INPUT: list[tuple[str, type[RheostatError], str, Callable[[SqlStore], object]]] = [
    (
        "users None",
        ValidationError,
        "users",
        lambda s: service.add_flag_targets(
            s, ENV, "x", users=None, change=service.Change(actor="me")
        ),  # type: ignore[arg-type]
    ),
    (
        "users int",
        ValidationError,
        "users",
        lambda s: service.transact(
            s, service.add_flag_targets, ENV, "x", users=5, change=service.Change(actor="me")
        ),  # type: ignore[arg-type]
    ),
    (
        "groups None",
        ValidationError,
        "groups",
        lambda s: service.remove_flag_targets(
            s, ENV, "x", groups=None, change=service.Change(actor="me")
        ),  # type: ignore[arg-type]
    ),
    (
        "segment definition str",
        InvalidDefinition,
        "segments.seg",
        lambda s: service.transact(
            s, service.create_segment, ENV, "seg", "abc", change=service.Change(actor="me")
        ),  # type: ignore[arg-type]
    ),
    (
        "flag definition list",
        InvalidDefinition,
        "flags.y",
        lambda s: service.transact(
            s, service.create_flag, ENV, "y", [1], change=service.Change(actor="me")
        ),  # type: ignore[arg-type]
    ),
    (
        "deep description",
        InvalidDefinition,
        "flags.x.description",
        lambda s: service.transact(
            s,
            service.update_flag,
            ENV,
            "x",
            {**ON_OFF, "description": _nested(5000)},
            change=service.Change(actor="me", expected_version=1),
        ),
    ),
    (
        "deep variant",
        InvalidDefinition,
        "flags.y.variants",
        lambda s: service.transact(
            s,
            service.create_flag,
            ENV,
            "y",
            {"type": "json", "variants": {"a": _nested(5000)}},
            change=service.Change(actor="me"),
        ),
    ),
    (
        "deep segment",
        InvalidDefinition,
        "segments.seg.conditions",
        lambda s: service.transact(
            s,
            service.create_segment,
            ENV,
            "seg",
            {"conditions": _nested(5000)},
            change=service.Change(actor="me"),
        ),
    ),
    (
        "deep import",
        InvalidDefinition,
        "flags.z.description",
        lambda s: service.transact(
            s,
            service.import_flags,
            ENV,
            {"flags": {"z": {**ON_OFF, "description": _nested(5000)}}},
            change=service.Change(actor="me"),
        ),
    ),
]


@pytest.mark.parametrize(
    ("error", "where", "call"), [case[1:] for case in _BAD_INPUT], ids=[c[0] for c in _BAD_INPUT]
)
def test_bad_input_from_python_is_refused_naming_where(
    sqlite_store: SqlStore,
    error: type[RheostatError],
    where: str,
    call: Callable[[SqlStore], object],
) -> None:
    # Given an environment with a flag
    _production(sqlite_store)
    service.transact(
        sqlite_store, service.create_flag, ENV, "x", ON_OFF, change=service.Change(actor="me")
    )

    # When a Python caller passes the wrong type, or a structure nested 5,000 deep
    with pytest.raises(error) as refused:
        call(sqlite_store)

    # Then it is a rheostat error naming the field or path, not a TypeError or RecursionError
    named = refused.value.details.get("field") or refused.value.details.get("path")
    assert named == where
