"""``with_exposure``: treatment, holdback and the rest, stable as a release plan ramps.

Issue 10: "Users never flip between treatment, holdback and the rest as the ramp widens", and
the holdback is named by its variant (serving the off value).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rheostat import Context, FlagSet
from rheostat.errors import ValidationError
from rheostat.flags.edits import HOLDBACK, with_exposure

BASE: dict[str, Any] = {
    "variants": {"on": True, "off": False},
    "default": "off",
    "rules": [{"when": [{"attribute": "plan", "op": "eq", "values": ["staff"]}], "serve": "on"}],
}
USERS = [f"user-{n}" for n in range(3000)]


def _groups(definition: dict[str, Any]) -> dict[str, str]:
    flags = FlagSet.from_dict({"version": 1, "flags": {"f": definition}})
    return {user: flags.evaluate("f", Context(key=user), default=False).variant for user in USERS}


def _exposed(percent: float, holdback: float) -> dict[str, Any]:
    return with_exposure(BASE, "f", percent=percent, holdback_percent=holdback)


def test_the_holdback_serves_off_under_its_own_name_and_keeps_other_rules() -> None:
    # Given / When a flag is exposed to 5 % with a 5 % holdback
    edited = _exposed(5, 5)
    flags = FlagSet.from_dict({"version": 1, "flags": {"f": edited}})
    groups = _groups(edited)

    # Then the holdback variant serves False, about 5 % land in each group, the staff rule stays
    assert edited["variants"] == {"on": True, "off": False, HOLDBACK: False}
    assert edited["rules"][0]["serve"] == "on"
    held = [user for user, group in groups.items() if group == HOLDBACK]
    assert 100 < len(held) < 200
    assert flags.is_enabled("f", Context(key=held[0])) is False
    assert 100 < sum(group == "on" for group in groups.values()) < 200


ramps = st.lists(st.integers(min_value=0, max_value=50_000), min_size=2, max_size=6).map(sorted)


@given(ramps)
def test_widening_never_moves_a_user_out_of_treatment_or_holdback(shares: list[int]) -> None:
    # Given a ramp whose treatment and holdback grow together (each at most 50 %)
    before: dict[str, str] | None = None
    for share in shares:
        percent = share / 1000
        groups = _groups(_exposed(percent, percent))
        if before is not None:
            # Then everyone treated stays treated, everyone held back stays held back
            for user, group in before.items():
                if group in ("on", HOLDBACK):
                    assert groups[user] == group
        before = groups


def test_the_end_of_a_ramp_moves_the_holdback_into_treatment_only() -> None:
    at_50 = _groups(_exposed(50, 50))
    at_100 = _groups(_exposed(100, 0))
    assert all(at_100[user] == "on" for user, group in at_50.items() if group == HOLDBACK)


def test_a_ring_exposes_segment_members_only_and_everyone_later() -> None:
    # Given a segment of internal users
    segment = {"conditions": [{"attribute": "team", "op": "eq", "values": ["internal"]}]}

    def served(definition: dict[str, Any], team: str) -> bool:
        document = {"version": 1, "segments": {"internal": segment}, "flags": {"f": definition}}
        flags = FlagSet.from_dict(document)
        return flags.is_enabled("f", Context(key="u-1", attributes={"team": team}))

    # When the ring stage exposes 100 % of internal, then the next stage everyone
    ring = with_exposure(BASE, "f", percent=100, segments=("internal",))
    everyone = with_exposure(ring, "f", percent=100)

    # Then only internal users had it, then everyone; the ring rule is gone
    assert (served(ring, "internal"), served(ring, "sales")) == (True, False)
    assert served(everyone, "sales") is True
    assert [rule.get("name") for rule in everyone["rules"]].count("rollout:ring") == 0


def test_treatment_and_holdback_over_100_percent_is_refused() -> None:
    with pytest.raises(ValidationError, match="exceed 100%"):
        _exposed(60, 50)
