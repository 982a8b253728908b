"""Seed 001's FeatureFlagManager, on the JSON file and on the database."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rheostat.errors import InvalidDefinition, NotFound, ValidationError
from rheostat.facade import FeatureFlag, FeatureFlagManager
from rheostat.facade.flag_file import FlagFile
from rheostat.service import AuditAction, flag_history, open_store, transact

USERS = [f"user{number}" for number in range(4000)]
SEED_FILE = {
    "flags": [
        {
            "name": "dynamic_ner_models",
            "status": "percentage",
            "rollout_percentage": 10.0,
            "enabled_users": [],
            "enabled_groups": ["internal"],
            "conditions": {},
        }
    ]
}


@pytest.fixture(params=["file", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def manager(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FeatureFlagManager]:
    if request.param == "file":
        opened = FeatureFlagManager(tmp_path / "config" / "feature_flags.json")
    else:
        opened = FeatureFlagManager(database_url=request.getfixturevalue(f"{request.param}_url"))
    yield opened
    opened.close()


def _users_on(manager: FeatureFlagManager, name: str) -> set[str]:
    return {user for user in USERS if manager.is_enabled(name, user_id=user)}


def test_the_seed_quick_start_ramps_without_reshuffling(manager: FeatureFlagManager) -> None:
    # Given the seed's flag at 10 %
    created = manager.set_flag(
        "new_ner_model", enabled=True, rollout_percentage=10, description="New BioBERT model"
    )
    at_10 = _users_on(manager, "new_ner_model")
    user123_at_10 = manager.is_enabled("new_ner_model", user_id="user123")

    # When it is raised to 25, 50 and 100 %
    manager.set_rollout_percentage("new_ner_model", 25)
    at_25 = _users_on(manager, "new_ner_model")
    manager.set_rollout_percentage("new_ner_model", 50)
    at_50 = _users_on(manager, "new_ner_model")
    manager.set_rollout_percentage("new_ner_model", 100)

    # Then each step keeps the earlier users, and at 100 % everyone has it
    assert created.rollout_percentage == 10
    assert created.description == "New BioBERT model"
    assert at_10 <= at_25 <= at_50
    assert 300 < len(at_10) < 500
    assert 1800 < len(at_50) < 2200
    assert _users_on(manager, "new_ner_model") == set(USERS)
    assert user123_at_10 == ("user123" in at_10)


def test_allow_lists_kill_switch_and_enable_for_all(manager: FeatureFlagManager) -> None:
    # Given a flag at 0 % for everyone but the internal group and one user
    manager.set_flag("kb_enrichment", rollout_percentage=0, enabled_groups=["internal"])
    manager.add_user_to_flag("kb_enrichment", "user123")

    # When / Then allow-listed users get it, others do not
    assert manager.is_enabled("kb_enrichment", user_id="user123")
    assert manager.is_enabled("kb_enrichment", user_id="someone", groups=["internal"])
    assert not manager.is_enabled("kb_enrichment", user_id="someone")

    # When the kill switch is pulled / Then nobody has it, not even the allow-list
    disabled = manager.disable_flag("kb_enrichment")
    assert disabled.status == "disabled"
    assert not manager.is_enabled("kb_enrichment", user_id="user123")

    # When it is enabled for all / Then everybody has it
    enabled = manager.enable_flag("kb_enrichment")
    assert (enabled.status, enabled.rollout_percentage) == ("enabled", 100.0)
    assert manager.is_enabled("kb_enrichment", user_id="anyone")
    assert enabled.enabled_users == ("user123",)


def test_conditions_gate_the_rollout(manager: FeatureFlagManager) -> None:
    # Given a flag on for everyone in the US or CA
    manager.set_flag(
        "pattern_matching", rollout_percentage=100, conditions={"country": ["US", "CA"]}
    )

    # When / Then
    assert manager.is_enabled("pattern_matching", "u1", attributes={"country": "CA"})
    assert not manager.is_enabled("pattern_matching", "u1", attributes={"country": "FR"})
    assert not manager.is_enabled("pattern_matching", "u1")
    flag = manager.get_flag("pattern_matching")
    assert flag is not None
    assert flag.conditions == {"country": ("US", "CA")}


def test_reading_flags_and_stats(manager: FeatureFlagManager) -> None:
    # Given a flag
    manager.set_flag("x", rollout_percentage=30, enabled_users=["a", "b"], enabled_groups=["g"])

    # When / Then
    stats = manager.get_flag_stats("x")
    assert {k: stats[k] for k in ("name", "status", "rollout_percentage")} == {
        "name": "x",
        "status": "percentage",
        "rollout_percentage": 30.0,
    }
    assert (stats["enabled_users"], stats["enabled_groups"]) == (2, 1)
    assert manager.get_flag("missing") is None
    assert not manager.is_enabled("missing", user_id="u1")
    assert [flag.name for flag in manager.list_flags()] == ["x"]


def test_bad_calls_raise_clear_errors(manager: FeatureFlagManager) -> None:
    # Given / When / Then
    with pytest.raises(NotFound, match="'missing'"):
        manager.set_rollout_percentage("missing", 10)
    with pytest.raises(ValidationError, match="rollout_percentage"):
        manager.set_flag("x", rollout_percentage=150)
    manager.set_flag("x", rollout_percentage=10)
    with pytest.raises(ValidationError, match="from 0 to 100"):
        manager.set_rollout_percentage("x", -5)
    with pytest.raises(NotFound):
        manager.get_flag_stats("missing")


def test_the_file_is_the_seeds_format_and_the_seeds_file_loads(tmp_path: Path) -> None:
    # Given the seed's own config/feature_flags.json
    path = tmp_path / "config" / "feature_flags.json"
    path.parent.mkdir()
    path.write_text(json.dumps(SEED_FILE))

    # When a manager reads it and adds a user
    manager = FeatureFlagManager(path)
    internal = manager.is_enabled("dynamic_ner_models", user_id="x", groups=["internal"])
    manager.add_user_to_flag("dynamic_ner_models", "user123")

    # Then the group member has it, and the file is still the seed's format with the user
    assert internal
    written = json.loads(path.read_text())
    record = written["flags"][0]
    assert set(record) >= {
        "name",
        "status",
        "rollout_percentage",
        "enabled_users",
        "enabled_groups",
        "conditions",
    }
    assert (record["status"], record["rollout_percentage"]) == ("percentage", 10.0)
    assert record["enabled_users"] == ["user123"]
    assert FeatureFlagManager(path).is_enabled("dynamic_ner_models", user_id="user123")


def test_a_broken_file_names_the_bad_field(tmp_path: Path) -> None:
    # Given a file with an unknown status
    path = tmp_path / "flags.json"
    path.write_text(json.dumps({"flags": [{"name": "x", "status": "sometimes"}]}))

    # When / Then
    with pytest.raises(InvalidDefinition, match=r"flags\[0\]\.status"):
        FeatureFlagManager(path).set_rollout_percentage("x", 5)


def test_a_file_that_is_not_utf8_is_an_invalid_definition_naming_the_byte(
    tmp_path: Path,
) -> None:
    # Given a Latin-1 file (an é at offset 31)
    path = tmp_path / "flags.json"
    path.write_bytes('{"flags": [{"name": "x", "desc": "caf\u00e9"}]}'.encode("latin-1"))

    # When / Then
    with pytest.raises(InvalidDefinition, match=r"not UTF-8 text: byte 0xe9 at offset 37"):
        FeatureFlagManager(path).get_flag("x")


def test_database_changes_are_versioned_and_audited(sqlite_url: str) -> None:
    # Given a database-backed manager
    manager = FeatureFlagManager(database_url=sqlite_url, environment="staging")

    # When a flag is set and ramped
    manager.set_flag("new_ner_model", rollout_percentage=10)
    ramped = manager.set_rollout_percentage("new_ner_model", 25)
    manager.close()

    # Then each change is a version by the manager's actor
    store = open_store(sqlite_url)
    history = transact(store, flag_history, "staging", "new_ner_model")
    store.close()
    assert ramped.version == 2
    assert [(v.action, v.actor) for v in history] == [
        (AuditAction.FLAG_UPDATED, "feature-flag-manager"),
        (AuditAction.FLAG_CREATED, "feature-flag-manager"),
    ]


def _add_users(path: str, prefix: str, count: int) -> None:
    manager = FeatureFlagManager(path)
    for number in range(count):
        manager.add_user_to_flag("shared", f"{prefix}-{number}")


def test_concurrent_processes_on_one_file_lose_no_change(tmp_path: Path) -> None:
    # Given a flag in a file, and two processes adding different users to it
    path = tmp_path / "feature_flags.json"
    FeatureFlagManager(path).set_flag("shared", rollout_percentage=0)
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_add_users, args=(str(path), p, 20)) for p in "ab"]

    # When they run at the same time
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)

    # Then all 40 users are in the file
    assert [worker.exitcode for worker in workers] == [0, 0]
    flag = FeatureFlagManager(path).get_flag("shared")
    assert flag is not None
    assert sorted(flag.enabled_users) == sorted(f"{p}-{n}" for p in "ab" for n in range(20))


BIG_USERS = [f"user-{number:06d}" for number in range(20_000)]
MAX_POLLS = 5_000_000


def _rewrite_forever(path: Path) -> None:
    manager = FeatureFlagManager(path)
    round_number = 0
    while True:
        round_number += 1
        manager.set_flag("big", rollout_percentage=round_number % 100, enabled_users=BIG_USERS)


def _kill_mid_write(path: Path) -> None:
    pid = os.fork()
    if pid == 0:  # the child writes until it is killed
        try:
            _rewrite_forever(path)
        finally:
            os._exit(1)
    polls = 0
    while not any(p.name.endswith(".tmp") for p in path.parent.iterdir()) and polls < MAX_POLLS:
        polls += 1
        os.sched_yield()
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    assert polls < MAX_POLLS, "the writer never started a write"


def test_a_writer_killed_mid_write_leaves_a_whole_file(tmp_path: Path) -> None:
    # Given a file with a valid flag
    path = tmp_path / "feature_flags.json"
    FeatureFlagManager(path).set_flag("big", rollout_percentage=1, enabled_users=BIG_USERS)

    for _ in range(3):
        # When a process is killed (SIGKILL) while it is writing a new version
        _kill_mid_write(path)

        # Then the file is whole: the old version or a new one, never a torn mix
        document: dict[str, Any] = json.loads(path.read_text())
        flags = FlagFile(path).read()
        assert list(flags) == ["big"]
        assert flags["big"].enabled_users == tuple(BIG_USERS)
        assert document["flags"][0]["name"] == "big"

    # And the next writer sweeps the dead writer's temporary file away
    FeatureFlagManager(path).set_rollout_percentage("big", 5)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    flag = FeatureFlagManager(path).get_flag("big")
    assert isinstance(flag, FeatureFlag)
    assert flag.rollout_percentage == 5


def _ramp_many_times(database_url: str, worker: int, rounds: int) -> list[str]:
    """One process's manager: set a rollout and add a user ``rounds`` times; report failures."""
    manager = FeatureFlagManager(database_url=database_url, actor=f"worker-{worker}")
    failures = []
    try:
        for round_ in range(rounds):
            try:
                manager.set_rollout_percentage("shared", (worker * rounds + round_) % 100)
                manager.add_user_to_flag("shared", f"user-{worker}-{round_}")
            except Exception as error:  # noqa: BLE001  # every failure is reported, none hidden
                failures.append(f"{type(error).__name__}: {error}")
    finally:
        manager.close()
    return failures


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_eight_managers_in_eight_processes_all_get_through(
    request: pytest.FixtureRequest, backend: str
) -> None:
    # Given one flag, and eight processes each with its own manager
    url: str = request.getfixturevalue(f"{backend}_url")
    first = FeatureFlagManager(database_url=url)
    try:
        first.set_flag("shared", enabled=True, rollout_percentage=0)
    finally:
        first.close()
    workers, rounds = 8, 25

    # When they all change it at once, naming no version (as the seed's API never does)
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        results = pool.starmap(_ramp_many_times, [(url, w, rounds) for w in range(workers)])

    # Then no call failed, and every user added is on the flag (nothing was lost)
    assert [failure for failures in results for failure in failures] == []
    final = FeatureFlagManager(database_url=url)
    try:
        flag = final.get_flag("shared")
        assert flag is not None
        expected = {f"user-{w}-{r}" for w in range(workers) for r in range(rounds)}
        assert set(flag.enabled_users) == expected
    finally:
        final.close()
