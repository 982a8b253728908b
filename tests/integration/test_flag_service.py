"""Flags through the service: versions, audit, validation, history and restore."""

from __future__ import annotations

from typing import Any

import pytest

from rheostat.errors import AlreadyExists, Conflict, InvalidDefinition, NotFound, ValidationError
from rheostat.flags import Context, FlagSet
from rheostat.service import (
    AuditAction,
    Change,
    SqlStore,
    create_environment,
    create_flag,
    create_segment,
    delete_flag,
    find_flag,
    flag_history,
    get_flag,
    get_flag_version,
    list_audit_events,
    list_flags,
    restore_flag,
    snapshot,
    transact,
    update_flag,
)

ENV = "production"
CHECKOUT: dict[str, Any] = {
    "description": "New checkout flow",
    "variants": {"on": True, "off": False},
    "default": "off",
    "rules": [{"serve": {"split": {"on": 25, "off": 75}}}],
}


@pytest.fixture
def production(store: SqlStore) -> str:
    transact(store, create_environment, ENV, change=Change(actor="alice"))
    return ENV


def test_creating_a_flag_writes_version_one_and_an_audit_event(
    store: SqlStore, production: str
) -> None:
    # Given an environment
    # When a flag is created
    flag = transact(
        store,
        create_flag,
        production,
        "new-checkout",
        CHECKOUT,
        change=Change(actor="alice", reason="Q3"),
    )

    # Then it is at version 1, stored canonically, and the creation is audited
    assert flag.version == 1
    assert flag.definition["description"] == "New checkout flow"
    assert flag.definition["type"] == "bool"
    assert transact(store, get_flag, production, "new-checkout") == flag
    event = transact(store, list_audit_events, subject="flag:new-checkout")[0]
    assert (event.action, event.actor, event.reason) == (AuditAction.FLAG_CREATED, "alice", "Q3")
    assert event.before is None
    assert event.after == {"version": 1, "definition": flag.definition}


def test_each_update_makes_a_new_immutable_version(store: SqlStore, production: str) -> None:
    # Given a flag
    transact(store, create_flag, production, "new-checkout", CHECKOUT, change=Change(actor="alice"))

    # When it is updated twice, each time naming the version that was read
    v2 = transact(
        store,
        update_flag,
        production,
        "new-checkout",
        {**CHECKOUT, "description": "two"},
        change=Change(
            actor="bob",
            expected_version=1,
        ),
    )
    transact(
        store,
        update_flag,
        production,
        "new-checkout",
        {**CHECKOUT, "description": "three"},
        change=Change(
            actor="carol",
            reason="copy",
            expected_version=v2.version,
        ),
    )

    # Then the history holds all three versions, newest first, with who and why
    history = transact(store, flag_history, production, "new-checkout")
    assert [(v.version, v.actor, v.definition["description"]) for v in history] == [
        (3, "carol", "three"),
        (2, "bob", "two"),
        (1, "alice", "New checkout flow"),
    ]
    assert history[0].reason == "copy"
    assert (
        transact(store, get_flag_version, production, "new-checkout", 1).definition
        == history[2].definition
    )


def test_a_stale_update_is_refused_and_loses_nothing(store: SqlStore, production: str) -> None:
    # Given a flag that bob updated after alice read version 1
    transact(store, create_flag, production, "new-checkout", CHECKOUT, change=Change(actor="alice"))
    transact(
        store,
        update_flag,
        production,
        "new-checkout",
        {**CHECKOUT, "description": "bob's"},
        change=Change(
            actor="bob",
            expected_version=1,
        ),
    )

    # When alice writes based on version 1
    with pytest.raises(Conflict) as refused:
        transact(
            store,
            update_flag,
            production,
            "new-checkout",
            {**CHECKOUT, "description": "alice's"},
            change=Change(
                actor="alice",
                expected_version=1,
            ),
        )

    # Then she is told which versions clash, and bob's change stands
    assert refused.value.code == "conflict"
    assert refused.value.details["current_version"] == 2
    assert refused.value.details["expected_version"] == 1
    flag = transact(store, get_flag, production, "new-checkout")
    assert (flag.version, flag.description) == (2, "bob's")
    assert len(transact(store, flag_history, production, "new-checkout")) == 2


def test_an_identical_update_writes_nothing(store: SqlStore, production: str) -> None:
    # Given a flag
    created = transact(
        store, create_flag, production, "new-checkout", CHECKOUT, change=Change(actor="alice")
    )

    # When the same definition is written again
    same = transact(
        store,
        update_flag,
        production,
        "new-checkout",
        CHECKOUT,
        change=Change(actor="bob", expected_version=1),
    )

    # Then no version and no audit event were added
    assert same == created
    assert len(transact(store, flag_history, production, "new-checkout")) == 1
    assert len(transact(store, list_audit_events, subject="flag:new-checkout")) == 1


def test_an_invalid_definition_names_the_bad_path_and_changes_nothing(
    store: SqlStore, production: str
) -> None:
    # Given a flag
    transact(store, create_flag, production, "new-checkout", CHECKOUT, change=Change(actor="alice"))
    broken = {**CHECKOUT, "rules": [{"serve": {"split": {"on": 60, "off": 60}}}]}

    # When a split that sums to 120% is written
    with pytest.raises(InvalidDefinition) as refused:
        transact(
            store,
            update_flag,
            production,
            "new-checkout",
            broken,
            change=Change(actor="bob", expected_version=1),
        )

    # Then the error names the field, and version 1 is untouched
    assert refused.value.path == "flags.new-checkout.rules[0].serve.split"
    assert refused.value.code == "invalid_definition"
    assert transact(store, get_flag, production, "new-checkout").version == 1


@pytest.mark.parametrize("key", ["", "has space", "-leading", "x" * 129, "ünïcode"])
def test_bad_flag_keys_are_refused(store: SqlStore, production: str, key: str) -> None:
    # Given / When / Then
    with pytest.raises(ValidationError, match="flag key"):
        transact(store, create_flag, production, key, CHECKOUT, change=Change(actor="alice"))


def test_an_empty_actor_is_refused(store: SqlStore, production: str) -> None:
    # Given / When / Then
    with pytest.raises(ValidationError, match="actor"):
        transact(store, create_flag, production, "new-checkout", CHECKOUT, change=Change(actor=" "))


def test_creating_twice_is_refused(store: SqlStore, production: str) -> None:
    # Given a flag
    transact(store, create_flag, production, "new-checkout", CHECKOUT, change=Change(actor="alice"))

    # When / Then
    with pytest.raises(AlreadyExists, match="new-checkout"):
        transact(
            store, create_flag, production, "new-checkout", CHECKOUT, change=Change(actor="bob")
        )


def test_flags_belong_to_one_environment(store: SqlStore, production: str) -> None:
    # Given the same key in two environments
    transact(store, create_environment, "staging", change=Change(actor="alice"))
    transact(store, create_flag, production, "new-checkout", CHECKOUT, change=Change(actor="alice"))
    transact(
        store,
        create_flag,
        "staging",
        "new-checkout",
        {**CHECKOUT, "enabled": False},
        change=Change(actor="alice"),
    )

    # When each is read / Then each has its own state
    assert transact(store, get_flag, production, "new-checkout").enabled is True
    assert transact(store, get_flag, "staging", "new-checkout").enabled is False
    with pytest.raises(NotFound, match="environment 'nowhere'"):
        transact(store, list_flags, "nowhere")


def test_deleting_keeps_history_and_restore_brings_the_flag_back(
    store: SqlStore, production: str
) -> None:
    # Given a flag with two versions, then deleted
    transact(store, create_flag, production, "new-checkout", CHECKOUT, change=Change(actor="alice"))
    transact(
        store,
        update_flag,
        production,
        "new-checkout",
        {**CHECKOUT, "description": "v2"},
        change=Change(
            actor="alice",
            expected_version=1,
        ),
    )
    transact(
        store,
        delete_flag,
        production,
        "new-checkout",
        change=Change(actor="bob", reason="done", expected_version=2),
    )

    # When version 1 is restored
    gone = transact(store, find_flag, production, "new-checkout")
    restored = transact(
        store,
        restore_flag,
        production,
        "new-checkout",
        1,
        change=Change(actor="carol", expected_version=3),
    )

    # Then it is back as a NEW version 4 equal to version 1, and every step is in history
    assert gone is None
    assert restored.version == 4
    history = transact(store, flag_history, production, "new-checkout")
    assert restored.definition == history[-1].definition
    assert [(v.version, v.action, v.deleted) for v in history] == [
        (4, AuditAction.FLAG_RESTORED, False),
        (3, AuditAction.FLAG_DELETED, True),
        (2, AuditAction.FLAG_UPDATED, False),
        (1, AuditAction.FLAG_CREATED, False),
    ]
    events = transact(store, list_audit_events, subject="flag:new-checkout")
    assert events[0].action == AuditAction.FLAG_RESTORED
    assert events[1].action == AuditAction.FLAG_DELETED
    assert events[1].after is None


def test_recreating_a_deleted_flag_continues_its_history(store: SqlStore, production: str) -> None:
    # Given a deleted flag
    transact(store, create_flag, production, "new-checkout", CHECKOUT, change=Change(actor="alice"))
    transact(store, delete_flag, production, "new-checkout", change=Change(actor="alice"))

    # When it is created again / Then its versions go on
    assert (
        transact(
            store, create_flag, production, "new-checkout", CHECKOUT, change=Change(actor="bob")
        ).version
        == 3
    )


def test_restoring_a_missing_version_is_not_found(store: SqlStore, production: str) -> None:
    # Given a flag with one version
    transact(store, create_flag, production, "new-checkout", CHECKOUT, change=Change(actor="alice"))

    # When / Then
    with pytest.raises(NotFound, match="no version 7"):
        transact(
            store,
            restore_flag,
            production,
            "new-checkout",
            7,
            change=Change(actor="alice", expected_version=1),
        )
    with pytest.raises(NotFound):
        transact(store, flag_history, production, "never-existed")


def test_a_prerequisite_cannot_be_deleted_from_under_a_flag(
    store: SqlStore, production: str
) -> None:
    # Given a flag that requires another
    transact(store, create_flag, production, "payments-v2", CHECKOUT, change=Change(actor="alice"))
    dependent = {**CHECKOUT, "prerequisites": [{"flag": "payments-v2", "variants": ["on"]}]}
    transact(
        store, create_flag, production, "new-checkout", dependent, change=Change(actor="alice")
    )

    # When the prerequisite is deleted
    with pytest.raises(Conflict) as refused:
        transact(store, delete_flag, production, "payments-v2", change=Change(actor="bob"))

    # Then the dependent flag is named and nothing changed
    assert refused.value.details["flags"] == ["new-checkout"]
    assert transact(store, get_flag, production, "payments-v2").version == 1


def test_a_flag_may_use_the_environments_segments(store: SqlStore, production: str) -> None:
    # Given a segment of pilot orgs
    transact(
        store,
        create_segment,
        production,
        "pilot-orgs",
        {"conditions": [{"attribute": "org_id", "op": "in", "values": ["org-17"]}]},
        change=Change(
            actor="alice",
        ),
    )
    pilot = {
        **CHECKOUT,
        "rules": [
            {
                "when": [{"attribute": "org_id", "op": "in_segment", "values": ["pilot-orgs"]}],
                "serve": "on",
            }
        ],
    }

    # When a flag targets it and the snapshot is evaluated
    transact(store, create_flag, production, "new-checkout", pilot, change=Change(actor="alice"))
    flags = FlagSet.from_dict(transact(store, snapshot, production).document)

    # Then the pilot org gets the feature and others do not
    assert flags.is_enabled("new-checkout", Context(key="u1", attributes={"org_id": "org-17"}))
    assert not flags.is_enabled("new-checkout", Context(key="u1", attributes={"org_id": "org-9"}))


def test_an_unknown_segment_is_an_invalid_definition(store: SqlStore, production: str) -> None:
    # Given a rule naming a segment that does not exist
    rule = {
        "when": [{"attribute": "org_id", "op": "in_segment", "values": ["nope"]}],
        "serve": "on",
    }

    # When / Then
    with pytest.raises(InvalidDefinition, match=r"flags\.new-checkout\.rules\[0\]"):
        transact(
            store,
            create_flag,
            production,
            "new-checkout",
            {**CHECKOUT, "rules": [rule]},
            change=Change(actor="a"),
        )


def test_split_order_survives_storage(store: SqlStore, production: str) -> None:
    # Given a split whose variant order matters (ranges are allocated in written order)
    definition = {
        "variants": {"treatment": "new", "control": "old"},
        "default": "control",
        "rules": [{"serve": {"split": {"treatment": 10, "control": 90}}}],
    }

    # When it is stored and read back (PostgreSQL jsonb would sort the keys)
    transact(store, create_flag, production, "copy-test", definition, change=Change(actor="alice"))
    stored = transact(store, get_flag, production, "copy-test").definition

    # Then the order is the one written
    assert list(stored["rules"][0]["serve"]["split"]) == ["treatment", "control"]
    assert list(stored["variants"]) == ["treatment", "control"]


def test_change_listeners_hear_of_commits_only(store: SqlStore, production: str) -> None:
    # Given a listener on the store
    heard: list[str] = []
    store.add_change_listener(heard.append)

    # When a flag is created, then an invalid update is refused
    transact(store, create_flag, production, "new-checkout", CHECKOUT, change=Change(actor="alice"))
    with pytest.raises(InvalidDefinition):
        transact(
            store,
            update_flag,
            production,
            "new-checkout",
            {"default": "nope"},
            change=Change(
                actor="alice",
                expected_version=1,
            ),
        )

    # Then only the committed change was announced
    assert heard == [production]


def test_numbers_the_database_cannot_hold_are_validation_errors(
    store: SqlStore, production: str
) -> None:
    # Given a flag
    transact(store, create_flag, production, "new-checkout", CHECKOUT, change=Change(actor="alice"))

    # When / Then versions and ids beyond the columns' range are refused by name
    with pytest.raises(ValidationError, match="expected_version"):
        transact(
            store,
            update_flag,
            production,
            "new-checkout",
            CHECKOUT,
            change=Change(actor="alice", expected_version=2**40),
        )
    with pytest.raises(ValidationError, match="version"):
        transact(
            store,
            restore_flag,
            production,
            "new-checkout",
            10**20,
            change=Change(actor="alice", expected_version=1),
        )
    with pytest.raises(ValidationError, match="before_id"):
        transact(store, list_audit_events, before_id=10**20)
    with pytest.raises(ValidationError, match="limit"):
        transact(store, list_audit_events, limit=0)


@pytest.mark.parametrize("value", [float("nan"), {1, 2}, float("inf")])
def test_values_json_cannot_hold_are_invalid_definitions(
    store: SqlStore, production: str, value: object
) -> None:
    # Given a JSON flag whose variant holds something JSON cannot represent
    definition = {"type": "json", "variants": {"a": {"v": value}, "b": {}}, "default": "b"}

    # When / Then
    with pytest.raises(InvalidDefinition, match=r"flags\.odd: must hold only JSON values"):
        transact(store, create_flag, production, "odd", definition, change=Change(actor="alice"))
