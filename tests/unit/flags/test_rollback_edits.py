"""``with_rollback_targets`` and ``current_exposure``: the pure edits behind a rollback."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rheostat import Context, FlagSet
from rheostat.errors import ValidationError
from rheostat.flags.edits import (
    ROLLBACK_RULE,
    current_exposure,
    with_exposure,
    with_rollback_targets,
    with_rollout,
)

BASE: dict[str, Any] = {"variants": {"on": True, "off": False}, "default": "off"}
USERS = [f"user-{n}" for n in range(2000)]


def _on(definition: dict[str, Any], **attributes: object) -> set[str]:
    flags = FlagSet.from_dict({"version": 1, "flags": {"f": definition}})
    return {u for u in USERS if flags.is_enabled("f", Context(key=u, attributes=attributes))}


def test_the_exposure_of_a_split_a_ring_and_a_plain_default() -> None:
    assert current_exposure(with_rollout(BASE, 12.5, "f"), "f") == (12.5, 0.0, ())
    assert current_exposure(with_exposure(BASE, "f", percent=5, holdback_percent=5), "f") == (
        5.0,
        5.0,
        (),
    )
    ring = with_exposure(BASE, "f", percent=100, segments=("internal",))
    assert current_exposure(ring, "f") == (100.0, 0.0, ("internal",))
    assert current_exposure(BASE, "f") == (0.0, 0.0, ())
    assert current_exposure({**BASE, "default": "on"}, "f") == (100.0, 0.0, ())


def test_the_exposure_of_a_plan_past_its_rings_is_everyone_s_share() -> None:
    # Given a flag a plan took to 100 % of internal, then 5 % of everyone (the ring stays)
    ring = with_exposure(BASE, "f", percent=100, segments=("internal",))
    ramped = with_exposure(ring, "f", percent=5, holdback_percent=5, keep_other_audiences=True)

    # When a rollback reads its exposure / Then it is the 5 % of everyone (the bulk of the
    # traffic, which a gradual rollback steps down), not the ring's
    assert current_exposure(ramped, "f") == (5.0, 5.0, ())


def test_the_exposure_of_a_flag_that_is_not_on_off_is_refused() -> None:
    with pytest.raises(ValidationError, match="on/off"):
        current_exposure({"type": "string", "variants": {"a": "a"}, "default": "a"}, "f")


def test_named_users_groups_and_orgs_get_off_and_win_over_allow_lists() -> None:
    # Given a flag at 50 % with user-1 and group staff allow-listed on
    ramped = with_rollout(BASE, 50, "f")
    ramped["targets"] = [{"variant": "on", "keys": ["user-1"], "groups": ["staff"]}]
    before = _on(ramped)

    # When user-1, user-2, group staff and org-17 are rolled back
    edited = with_rollback_targets(
        ramped, "f", users=["user-1", "user-2"], groups=["staff"], orgs=["org-17"]
    )

    # Then they are off; the rest keep what they had
    assert _on(edited) == before - {"user-1", "user-2"}
    assert _on(edited, groups=["staff"]) == set()
    assert _on(edited, org_id="org-17") == set()
    assert _on(edited, org_id="org-18") == before - {"user-1", "user-2"}
    assert edited["targets"][0]["variant"] == "off"
    assert edited["rules"][0]["name"] == ROLLBACK_RULE
    assert ramped["targets"][0]["keys"] == ["user-1"]  # the argument is left alone


def test_rolling_back_more_orgs_later_extends_the_one_rule() -> None:
    once = with_rollback_targets(BASE, "f", orgs=["org-1"])
    twice = with_rollback_targets(once, "f", orgs=["org-2", "org-1"])
    rules = [r for r in twice["rules"] if r["name"] == ROLLBACK_RULE]
    assert len(rules) == 1
    assert rules[0]["when"][0]["values"] == ["org-1", "org-2"]


@given(
    percent=st.integers(min_value=0, max_value=100),
    named=st.sets(st.integers(min_value=0, max_value=1999), max_size=30),
)
def test_a_targeted_rollback_only_ever_turns_users_off(percent: int, named: set[int]) -> None:
    ramped = with_rollout(BASE, percent, "f")
    users = [f"user-{n}" for n in named]
    edited = with_rollback_targets(ramped, "f", users=users)
    assert _on(edited) == _on(ramped) - set(users)
