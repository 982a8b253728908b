"""Flags through the service: versions, audit, validation, history and restore."""

from __future__ import annotations

from typing import Any

import pytest

from rheostat.errors import AlreadyExists, Conflict, InvalidDefinition, NotFound, ValidationError
from rheostat.flags import Context, FlagSet
from rheostat.service import (
    AuditAction,
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
    create_environment(store, ENV, actor="alice")
    return ENV


def test_creating_a_flag_writes_version_one_and_an_audit_event(
    store: SqlStore, production: str
) -> None:
    # Given an environment
    # When a flag is created
    flag = create_flag(store, production, "new-checkout", CHECKOUT, actor="alice", reason="Q3")

    # Then it is at version 1, stored canonically, and the creation is audited
    assert flag.version == 1
    assert flag.definition["description"] == "New checkout flow"
    assert flag.definition["type"] == "bool"
    assert get_flag(store, production, "new-checkout") == flag
    event = list_audit_events(store, subject="flag:new-checkout")[0]
    assert (event.action, event.actor, event.reason) == (AuditAction.FLAG_CREATED, "alice", "Q3")
    assert event.before is None
    assert event.after == {"version": 1, "definition": flag.definition}


def test_each_update_makes_a_new_immutable_version(store: SqlStore, production: str) -> None:
    # Given a flag
    create_flag(store, production, "new-checkout", CHECKOUT, actor="alice")

    # When it is updated twice, each time naming the version that was read
    v2 = update_flag(
        store,
        production,
        "new-checkout",
        {**CHECKOUT, "description": "two"},
        expected_version=1,
        actor="bob",
    )
    update_flag(
        store,
        production,
        "new-checkout",
        {**CHECKOUT, "description": "three"},
        expected_version=v2.version,
        actor="carol",
        reason="copy",
    )

    # Then the history holds all three versions, newest first, with who and why
    history = flag_history(store, production, "new-checkout")
    assert [(v.version, v.actor, v.definition["description"]) for v in history] == [
        (3, "carol", "three"),
        (2, "bob", "two"),
        (1, "alice", "New checkout flow"),
    ]
    assert history[0].reason == "copy"
    assert (
        get_flag_version(store, production, "new-checkout", 1).definition == history[2].definition
    )


def test_a_stale_update_is_refused_and_loses_nothing(store: SqlStore, production: str) -> None:
    # Given a flag that bob updated after alice read version 1
    create_flag(store, production, "new-checkout", CHECKOUT, actor="alice")
    update_flag(
        store,
        production,
        "new-checkout",
        {**CHECKOUT, "description": "bob's"},
        expected_version=1,
        actor="bob",
    )

    # When alice writes based on version 1
    with pytest.raises(Conflict) as refused:
        update_flag(
            store,
            production,
            "new-checkout",
            {**CHECKOUT, "description": "alice's"},
            expected_version=1,
            actor="alice",
        )

    # Then she is told which versions clash, and bob's change stands
    assert refused.value.code == "conflict"
    assert refused.value.details["current_version"] == 2
    assert refused.value.details["expected_version"] == 1
    flag = get_flag(store, production, "new-checkout")
    assert (flag.version, flag.description) == (2, "bob's")
    assert len(flag_history(store, production, "new-checkout")) == 2


def test_an_identical_update_writes_nothing(store: SqlStore, production: str) -> None:
    # Given a flag
    created = create_flag(store, production, "new-checkout", CHECKOUT, actor="alice")

    # When the same definition is written again
    same = update_flag(store, production, "new-checkout", CHECKOUT, expected_version=1, actor="bob")

    # Then no version and no audit event were added
    assert same == created
    assert len(flag_history(store, production, "new-checkout")) == 1
    assert len(list_audit_events(store, subject="flag:new-checkout")) == 1


def test_an_invalid_definition_names_the_bad_path_and_changes_nothing(
    store: SqlStore, production: str
) -> None:
    # Given a flag
    create_flag(store, production, "new-checkout", CHECKOUT, actor="alice")
    broken = {**CHECKOUT, "rules": [{"serve": {"split": {"on": 60, "off": 60}}}]}

    # When a split that sums to 120% is written
    with pytest.raises(InvalidDefinition) as refused:
        update_flag(store, production, "new-checkout", broken, expected_version=1, actor="bob")

    # Then the error names the field, and version 1 is untouched
    assert refused.value.path == "flags.new-checkout.rules[0].serve.split"
    assert refused.value.code == "invalid_definition"
    assert get_flag(store, production, "new-checkout").version == 1


@pytest.mark.parametrize("key", ["", "has space", "-leading", "x" * 129, "ünïcode"])
def test_bad_flag_keys_are_refused(store: SqlStore, production: str, key: str) -> None:
    # Given / When / Then
    with pytest.raises(ValidationError, match="flag key"):
        create_flag(store, production, key, CHECKOUT, actor="alice")


def test_an_empty_actor_is_refused(store: SqlStore, production: str) -> None:
    # Given / When / Then
    with pytest.raises(ValidationError, match="actor"):
        create_flag(store, production, "new-checkout", CHECKOUT, actor=" ")


def test_creating_twice_is_refused(store: SqlStore, production: str) -> None:
    # Given a flag
    create_flag(store, production, "new-checkout", CHECKOUT, actor="alice")

    # When / Then
    with pytest.raises(AlreadyExists, match="new-checkout"):
        create_flag(store, production, "new-checkout", CHECKOUT, actor="bob")


def test_flags_belong_to_one_environment(store: SqlStore, production: str) -> None:
    # Given the same key in two environments
    create_environment(store, "staging", actor="alice")
    create_flag(store, production, "new-checkout", CHECKOUT, actor="alice")
    create_flag(store, "staging", "new-checkout", {**CHECKOUT, "enabled": False}, actor="alice")

    # When each is read / Then each has its own state
    assert get_flag(store, production, "new-checkout").enabled is True
    assert get_flag(store, "staging", "new-checkout").enabled is False
    with pytest.raises(NotFound, match="environment 'nowhere'"):
        list_flags(store, "nowhere")


def test_deleting_keeps_history_and_restore_brings_the_flag_back(
    store: SqlStore, production: str
) -> None:
    # Given a flag with two versions, then deleted
    create_flag(store, production, "new-checkout", CHECKOUT, actor="alice")
    update_flag(
        store,
        production,
        "new-checkout",
        {**CHECKOUT, "description": "v2"},
        expected_version=1,
        actor="alice",
    )
    delete_flag(store, production, "new-checkout", expected_version=2, actor="bob", reason="done")

    # When version 1 is restored
    gone = find_flag(store, production, "new-checkout")
    restored = restore_flag(store, production, "new-checkout", 1, expected_version=3, actor="carol")

    # Then it is back as a NEW version 4 equal to version 1, and every step is in history
    assert gone is None
    assert restored.version == 4
    history = flag_history(store, production, "new-checkout")
    assert restored.definition == history[-1].definition
    assert [(v.version, v.action, v.deleted) for v in history] == [
        (4, AuditAction.FLAG_RESTORED, False),
        (3, AuditAction.FLAG_DELETED, True),
        (2, AuditAction.FLAG_UPDATED, False),
        (1, AuditAction.FLAG_CREATED, False),
    ]
    events = list_audit_events(store, subject="flag:new-checkout")
    assert events[0].action == AuditAction.FLAG_RESTORED
    assert events[1].action == AuditAction.FLAG_DELETED
    assert events[1].after is None


def test_recreating_a_deleted_flag_continues_its_history(store: SqlStore, production: str) -> None:
    # Given a deleted flag
    create_flag(store, production, "new-checkout", CHECKOUT, actor="alice")
    delete_flag(store, production, "new-checkout", actor="alice")

    # When it is created again / Then its versions go on
    assert create_flag(store, production, "new-checkout", CHECKOUT, actor="bob").version == 3


def test_restoring_a_missing_version_is_not_found(store: SqlStore, production: str) -> None:
    # Given a flag with one version
    create_flag(store, production, "new-checkout", CHECKOUT, actor="alice")

    # When / Then
    with pytest.raises(NotFound, match="no version 7"):
        restore_flag(store, production, "new-checkout", 7, expected_version=1, actor="alice")
    with pytest.raises(NotFound):
        flag_history(store, production, "never-existed")


def test_a_prerequisite_cannot_be_deleted_from_under_a_flag(
    store: SqlStore, production: str
) -> None:
    # Given a flag that requires another
    create_flag(store, production, "payments-v2", CHECKOUT, actor="alice")
    dependent = {**CHECKOUT, "prerequisites": [{"flag": "payments-v2", "variants": ["on"]}]}
    create_flag(store, production, "new-checkout", dependent, actor="alice")

    # When the prerequisite is deleted
    with pytest.raises(Conflict) as refused:
        delete_flag(store, production, "payments-v2", actor="bob")

    # Then the dependent flag is named and nothing changed
    assert refused.value.details["flags"] == ["new-checkout"]
    assert get_flag(store, production, "payments-v2").version == 1


def test_a_flag_may_use_the_environments_segments(store: SqlStore, production: str) -> None:
    # Given a segment of pilot orgs
    create_segment(
        store,
        production,
        "pilot-orgs",
        {"conditions": [{"attribute": "org_id", "op": "in", "values": ["org-17"]}]},
        actor="alice",
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
    create_flag(store, production, "new-checkout", pilot, actor="alice")
    flags = FlagSet.from_dict(snapshot(store, production).document)

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
        create_flag(store, production, "new-checkout", {**CHECKOUT, "rules": [rule]}, actor="a")


def test_split_order_survives_storage(store: SqlStore, production: str) -> None:
    # Given a split whose variant order matters (ranges are allocated in written order)
    definition = {
        "variants": {"treatment": "new", "control": "old"},
        "default": "control",
        "rules": [{"serve": {"split": {"treatment": 10, "control": 90}}}],
    }

    # When it is stored and read back (PostgreSQL jsonb would sort the keys)
    create_flag(store, production, "copy-test", definition, actor="alice")
    stored = get_flag(store, production, "copy-test").definition

    # Then the order is the one written
    assert list(stored["rules"][0]["serve"]["split"]) == ["treatment", "control"]
    assert list(stored["variants"]) == ["treatment", "control"]


def test_change_listeners_hear_of_commits_only(store: SqlStore, production: str) -> None:
    # Given a listener on the store
    heard: list[str] = []
    store.add_change_listener(heard.append)

    # When a flag is created, then an invalid update is refused
    create_flag(store, production, "new-checkout", CHECKOUT, actor="alice")
    with pytest.raises(InvalidDefinition):
        update_flag(
            store,
            production,
            "new-checkout",
            {"default": "nope"},
            expected_version=1,
            actor="alice",
        )

    # Then only the committed change was announced
    assert heard == [production]


def test_numbers_the_database_cannot_hold_are_validation_errors(
    store: SqlStore, production: str
) -> None:
    # Given a flag
    create_flag(store, production, "new-checkout", CHECKOUT, actor="alice")

    # When / Then versions and ids beyond the columns' range are refused by name
    with pytest.raises(ValidationError, match="expected_version"):
        update_flag(
            store, production, "new-checkout", CHECKOUT, expected_version=2**40, actor="alice"
        )
    with pytest.raises(ValidationError, match="version"):
        restore_flag(store, production, "new-checkout", 10**20, expected_version=1, actor="alice")
    with pytest.raises(ValidationError, match="before_id"):
        list_audit_events(store, before_id=10**20)
    with pytest.raises(ValidationError, match="limit"):
        list_audit_events(store, limit=0)


@pytest.mark.parametrize("value", [float("nan"), {1, 2}, float("inf")])
def test_values_json_cannot_hold_are_invalid_definitions(
    store: SqlStore, production: str, value: object
) -> None:
    # Given a JSON flag whose variant holds something JSON cannot represent
    definition = {"type": "json", "variants": {"a": {"v": value}, "b": {}}, "default": "b"}

    # When / Then
    with pytest.raises(InvalidDefinition, match=r"flags\.odd: must hold only JSON values"):
        create_flag(store, production, "odd", definition, actor="alice")
