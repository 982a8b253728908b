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


SEGMENTS = {
    team: {"conditions": [{"attribute": "team", "op": "eq", "values": [team]}]}
    for team in ("internal", "beta")
}


def _share_on(definition: dict[str, Any], team: str) -> float:
    document = {"version": 1, "segments": SEGMENTS, "flags": {"f": definition}}
    flags = FlagSet.from_dict(document)
    served = [flags.is_enabled("f", Context(key=user, attributes={"team": team})) for user in USERS]
    return sum(served) / len(served)


def test_a_ramp_that_keeps_other_audiences_keeps_the_rings_of_earlier_stages() -> None:
    # Given a ring of internal, then a ring of beta that keeps it
    internal = with_exposure(BASE, "f", percent=100, segments=("internal",))
    beta = with_exposure(internal, "f", percent=100, segments=("beta",), keep_other_audiences=True)

    # When everyone ramps to 5 %, keeping the other audiences
    ramped = with_exposure(beta, "f", percent=5, holdback_percent=5, keep_other_audiences=True)

    # Then both rings keep 100 % while the others get the ramp (and its holdback)
    assert (_share_on(beta, "internal"), _share_on(beta, "beta"), _share_on(beta, "x")) == (1, 1, 0)
    assert _share_on(ramped, "internal") == _share_on(ramped, "beta") == 1.0
    assert 0.03 < _share_on(ramped, "sales") < 0.07
    assert ramped["rules"][0]["serve"] == "on"  # the staff rule stays first


def test_a_ring_at_or_below_the_share_of_everyone_is_dropped_never_lowering_it() -> None:
    # Given internal at 100 % and beta at 10 %, then everyone at 20 %
    internal = with_exposure(BASE, "f", percent=100, segments=("internal",))
    beta = with_exposure(internal, "f", percent=10, segments=("beta",), keep_other_audiences=True)
    at_20 = with_exposure(beta, "f", percent=20, keep_other_audiences=True)

    # Then beta's ring adds nothing and goes (beta gets the 20 %), internal's stays
    rings = [rule for rule in at_20["rules"] if rule.get("name") == "rollout:ring"]
    assert [rule["when"][0]["values"] for rule in rings] == [["internal"]]
    assert 0.15 < _share_on(at_20, "beta") < 0.25

    # And at 100 % of everyone no ring rule is left
    everyone = with_exposure(at_20, "f", percent=100, keep_other_audiences=True)
    assert [rule.get("name") for rule in everyone["rules"]].count("rollout:ring") == 0


def test_a_ring_after_a_ramp_of_everyone_keeps_everyone_when_asked() -> None:
    # Given 5 % of everyone
    ramped = with_exposure(BASE, "f", percent=5)

    # When internal gets 100 %, keeping the other audiences, or alone
    kept = with_exposure(
        ramped, "f", percent=100, segments=("internal",), keep_other_audiences=True
    )
    alone = with_exposure(ramped, "f", percent=100, segments=("internal",))

    # Then everyone keeps 5 % in the first, nobody but internal has it in the second
    assert 0.03 < _share_on(kept, "sales") < 0.07
    assert _share_on(kept, "internal") == 1.0
    assert (_share_on(alone, "sales"), _share_on(alone, "internal")) == (0, 1)


def test_a_ring_edit_replaces_the_ring_of_the_same_segments_only() -> None:
    # Given rings of internal and of beta
    internal = with_exposure(BASE, "f", percent=50, segments=("internal",))
    both = with_exposure(internal, "f", percent=100, segments=("beta",), keep_other_audiences=True)

    # When internal's ring widens
    widened = with_exposure(
        both, "f", percent=100, segments=("internal",), keep_other_audiences=True
    )

    # Then there is one ring per audience, and both serve 100 %
    rings = [rule for rule in widened["rules"] if rule.get("name") == "rollout:ring"]
    assert sorted(rule["when"][0]["values"][0] for rule in rings) == ["beta", "internal"]
    assert _share_on(widened, "internal") == _share_on(widened, "beta") == 1.0


def test_an_exposure_alone_takes_every_ring_back() -> None:
    # Given two rings and 5 % of everyone
    internal = with_exposure(BASE, "f", percent=100, segments=("internal",))
    beta = with_exposure(internal, "f", percent=100, segments=("beta",), keep_other_audiences=True)
    ramped = with_exposure(beta, "f", percent=5, keep_other_audiences=True)

    # When a rollback sets 0 % alone (the default)
    rolled_back = with_exposure(ramped, "f", percent=0)

    # Then nobody has it, in no ring
    assert [_share_on(rolled_back, team) for team in ("internal", "beta", "sales")] == [0, 0, 0]
