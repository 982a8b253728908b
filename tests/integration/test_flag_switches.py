"""The targeted flag operations: rollout percentage, on/off, kill switch, allow-lists."""

from __future__ import annotations

import pytest

from rheostat.errors import InvalidDefinition, NotFound, ValidationError
from rheostat.flags import Context, FlagSet
from rheostat.service import (
    AuditAction,
    Change,
    FlagState,
    SqlStore,
    add_flag_targets,
    create_environment,
    create_flag,
    disable_flag,
    enable_flag,
    flag_history,
    flag_stats,
    get_flag,
    kill_flag,
    list_audit_events,
    remove_flag_targets,
    set_rollout_percentage,
    snapshot,
    transact,
)

ENV = "production"
USERS = [f"user-{number}" for number in range(4000)]


@pytest.fixture
def flag(store: SqlStore) -> str:
    transact(store, create_environment, ENV, change=Change(actor="alice"))
    transact(
        store,
        create_flag,
        ENV,
        "new-checkout",
        {"description": "checkout"},
        change=Change(actor="alice"),
    )
    return "new-checkout"


def _users_on(store: SqlStore, key: str) -> set[str]:
    flags = FlagSet.from_dict(transact(store, snapshot, ENV).document)
    return {user for user in USERS if flags.is_enabled(key, Context(key=user))}


def test_widening_the_rollout_keeps_everyone_who_had_it(store: SqlStore, flag: str) -> None:
    # Given a flag at 10 %
    transact(store, set_rollout_percentage, ENV, flag, 10, change=Change(actor="alice"))
    at_10 = _users_on(store, flag)

    # When it is widened to 50 %
    record = transact(
        store,
        set_rollout_percentage,
        ENV,
        flag,
        50,
        change=Change(actor="alice", reason="metrics ok"),
    )
    at_50 = _users_on(store, flag)

    # Then the first 10 % still have it, and about half of all users have it now
    assert at_10 <= at_50
    assert 300 < len(at_10) < 500
    assert 1800 < len(at_50) < 2200
    assert record.definition["rules"][-1]["serve"]["split"] == {"on": 50.0, "off": 50.0}
    stats = transact(store, flag_stats, ENV, flag)
    assert (stats.state, stats.rollout_percent, stats.version) == (FlagState.PERCENTAGE, 50.0, 3)


def test_rollout_keeps_other_rules_and_targets(store: SqlStore, flag: str) -> None:
    # Given a flag with a staff rule and a targeted user
    rule = {
        "name": "staff",
        "when": [{"attribute": "plan", "op": "eq", "values": ["staff"]}],
        "serve": "on",
    }
    record = transact(store, get_flag, ENV, flag)
    edited = {**record.definition, "rules": [rule]}
    from rheostat.service import update_flag

    transact(
        store, update_flag, ENV, flag, edited, change=Change(actor="alice", expected_version=1)
    )
    transact(store, add_flag_targets, ENV, flag, users=["vip"], change=Change(actor="alice"))

    # When the rollout is set
    result = transact(
        store, set_rollout_percentage, ENV, flag, 12.345, change=Change(actor="alice")
    )

    # Then the staff rule and the target stay, and the split is appended as the catch-all
    assert result.definition["rules"][0]["name"] == "staff"
    assert result.definition["rules"][1]["serve"]["split"] == {"on": 12.345, "off": 87.655}
    assert result.definition["targets"] == [{"variant": "on", "keys": ["vip"], "groups": []}]


@pytest.mark.parametrize("percent", [-1, 100.5, float("nan"), "50", True])
def test_a_percentage_outside_0_to_100_is_refused(
    store: SqlStore, flag: str, percent: object
) -> None:
    # Given / When / Then
    with pytest.raises(ValidationError, match="from 0 to 100"):
        transact(store, set_rollout_percentage, ENV, flag, percent, change=Change(actor="alice"))  # type: ignore[arg-type]
    assert transact(store, get_flag, ENV, flag).version == 1


def test_rollout_of_a_multivariant_flag_is_refused(store: SqlStore, flag: str) -> None:
    # Given a string flag
    transact(
        store,
        create_flag,
        ENV,
        "copy",
        {"variants": {"a": "A", "b": "B"}, "default": "a"},
        change=Change(actor="alice"),
    )

    # When / Then
    with pytest.raises(ValidationError, match="not an on/off flag"):
        transact(store, set_rollout_percentage, ENV, "copy", 50, change=Change(actor="alice"))
    with pytest.raises(ValidationError, match="not an on/off flag"):
        transact(store, add_flag_targets, ENV, "copy", users=["u1"], change=Change(actor="alice"))
    with pytest.raises(InvalidDefinition, match="unknown variant"):
        transact(
            store,
            add_flag_targets,
            ENV,
            "copy",
            users=["u1"],
            variant="c",
            change=Change(actor="alice"),
        )
    assert (
        transact(
            store,
            add_flag_targets,
            ENV,
            "copy",
            users=["u1"],
            variant="b",
            change=Change(actor="a"),
        ).version
        == 2
    )


def test_disable_then_enable_is_versioned_and_a_repeat_writes_nothing(
    store: SqlStore, flag: str
) -> None:
    # Given a flag at 100 %
    transact(store, set_rollout_percentage, ENV, flag, 100, change=Change(actor="alice"))

    # When it is disabled twice, then enabled
    transact(store, disable_flag, ENV, flag, change=Change(actor="bob", reason="incident"))
    transact(store, disable_flag, ENV, flag, change=Change(actor="bob"))
    enabled = transact(
        store, enable_flag, ENV, flag, change=Change(actor="bob", expected_version=3)
    )

    # Then only two versions were added, and it serves everyone again
    assert [v.action for v in transact(store, flag_history, ENV, flag)][:2] == [
        AuditAction.FLAG_ENABLED,
        AuditAction.FLAG_DISABLED,
    ]
    assert enabled.version == 4
    assert len(_users_on(store, flag)) == len(USERS)


def test_a_kill_serves_nobody_and_is_recorded_even_when_already_off(
    store: SqlStore, flag: str
) -> None:
    # Given a flag on for everyone and a targeted user
    transact(store, set_rollout_percentage, ENV, flag, 100, change=Change(actor="alice"))
    transact(store, add_flag_targets, ENV, flag, users=["vip"], change=Change(actor="alice"))

    # When it is killed twice
    killed = transact(
        store, kill_flag, ENV, flag, change=Change(actor="oncall", reason="error rate 5%")
    )
    again = transact(
        store, kill_flag, ENV, flag, change=Change(actor="oncall-2", reason="still bad")
    )

    # Then nobody, not even the target, gets it; one version, two audit events
    assert killed.enabled is False
    assert again.version == killed.version
    assert _users_on(store, flag) == set()
    flags = FlagSet.from_dict(transact(store, snapshot, ENV).document)
    assert not flags.is_enabled(flag, Context(key="vip"))
    kills = [
        e
        for e in transact(store, list_audit_events, subject=f"flag:{flag}")
        if e.action == AuditAction.FLAG_KILLED
    ]
    assert [(e.actor, e.reason) for e in kills] == [
        ("oncall-2", "still bad"),
        ("oncall", "error rate 5%"),
    ]
    assert transact(store, flag_stats, ENV, flag).state == FlagState.DISABLED


def test_targets_are_added_once_and_removed(store: SqlStore, flag: str) -> None:
    # Given users and a group added, some twice
    transact(
        store,
        add_flag_targets,
        ENV,
        flag,
        users=["u1", "u2"],
        groups=["staff"],
        change=Change(actor="alice"),
    )
    unchanged = transact(
        store, add_flag_targets, ENV, flag, users=["u2"], change=Change(actor="alice")
    )

    # When one user is removed
    removed = transact(
        store, remove_flag_targets, ENV, flag, users=["u1"], change=Change(actor="alice")
    )

    # Then no duplicate was written, and the rest of the target stays
    assert unchanged.version == 2
    assert removed.definition["targets"] == [{"variant": "on", "keys": ["u2"], "groups": ["staff"]}]
    flags = FlagSet.from_dict(transact(store, snapshot, ENV).document)
    assert flags.is_enabled(flag, Context(key="anyone", attributes={"groups": ["staff"]}))
    assert not flags.is_enabled(flag, Context(key="u1"))
    assert transact(store, flag_stats, ENV, flag).state == FlagState.TARGETED


def test_adding_nobody_or_a_bare_string_is_refused(store: SqlStore, flag: str) -> None:
    # Given / When / Then
    with pytest.raises(ValidationError, match="at least one user or group"):
        transact(store, add_flag_targets, ENV, flag, change=Change(actor="alice"))
    with pytest.raises(ValidationError, match="list of names"):
        transact(store, add_flag_targets, ENV, flag, users="u1", change=Change(actor="alice"))


def test_operations_on_a_missing_flag_are_not_found(store: SqlStore, flag: str) -> None:
    # Given / When / Then
    with pytest.raises(NotFound, match="'ghost'"):
        transact(store, kill_flag, ENV, "ghost", change=Change(actor="oncall"))
    with pytest.raises(NotFound, match="environment 'nowhere'"):
        transact(store, enable_flag, "nowhere", flag, change=Change(actor="alice"))
