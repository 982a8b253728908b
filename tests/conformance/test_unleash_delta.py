"""Unleash delta API: hydration and change events through ``FlagSet.apply_unleash_delta``."""

from __future__ import annotations

from typing import Any

import pytest
from unleash_documents import constraint, document, feature, strategy

from rheostat import Context, FlagSet, InvalidDefinition

IN_APP_ABC = constraint("appName", "IN", values=["abc"])
ABC = Context.from_unleash({"appName": "abc"})
XYZ = Context.from_unleash({"appName": "xyz"})


def hydration(*features: dict[str, Any], segments: list[Any] | None = None) -> dict[str, Any]:
    return {
        "eventId": 1,
        "type": "hydration",
        "features": list(features),
        "segments": segments or [],
    }


def with_segment(name: str, segment_id: int) -> dict[str, Any]:
    return feature(name, strategies=[strategy(segments=[segment_id])])


def test_a_hydration_document_builds_the_set() -> None:
    # Given
    events = {"events": [hydration(feature("a"), feature("b", enabled=False))]}

    # When
    flags = FlagSet.from_unleash(events)

    # Then
    assert flags.keys() == ["a", "b"]
    assert flags.is_enabled("a", Context()) is True
    assert flags.is_enabled("b", Context()) is False


def test_a_single_hydration_event_builds_the_set() -> None:
    # Given
    event = hydration(feature("a"))

    # When
    flags = FlagSet.from_unleash(event)

    # Then
    assert flags.is_enabled("a", Context()) is True


def test_feature_updated_replaces_the_feature_in_a_new_set() -> None:
    # Given
    before = FlagSet.from_unleash(document(feature("a", enabled=False)))
    update = {"eventId": 2, "type": "feature-updated", "feature": feature("a")}

    # When
    after = before.apply_unleash_delta([update])

    # Then
    assert after.is_enabled("a", Context()) is True
    assert before.is_enabled("a", Context()) is False


def test_feature_updated_adds_a_new_feature() -> None:
    # Given
    before = FlagSet.from_unleash(document(feature("a")))
    update = {"eventId": 2, "type": "feature-updated", "feature": feature("b")}

    # When
    after = before.apply_unleash_delta({"events": [update]})

    # Then
    assert after.keys() == ["a", "b"]


def test_feature_removed_drops_the_feature() -> None:
    # Given
    before = FlagSet.from_unleash(document(feature("a"), feature("b")))
    removal = {"eventId": 2, "type": "feature-removed", "featureName": "a", "project": "default"}

    # When
    after = before.apply_unleash_delta(removal)

    # Then
    assert after.keys() == ["b"]
    assert after.is_enabled("a", Context()) is False


def test_segment_updated_changes_who_matches() -> None:
    # Given
    segment = {"id": 1, "constraints": [IN_APP_ABC]}
    before = FlagSet.from_unleash(document(with_segment("a", 1), segments=[segment]))
    narrowed = {"id": 1, "constraints": [constraint("appName", "IN", values=["xyz"])]}

    # When
    after = before.apply_unleash_delta(
        [{"eventId": 2, "type": "segment-updated", "segment": narrowed}]
    )

    # Then
    assert (before.is_enabled("a", ABC), before.is_enabled("a", XYZ)) == (True, False)
    assert (after.is_enabled("a", ABC), after.is_enabled("a", XYZ)) == (False, True)


def test_segment_removed_turns_its_strategies_off() -> None:
    # Given
    segment = {"id": 1, "constraints": [IN_APP_ABC]}
    before = FlagSet.from_unleash(document(with_segment("a", 1), segments=[segment]))

    # When
    after = before.apply_unleash_delta([{"eventId": 2, "type": "segment-removed", "segmentId": 1}])

    # Then
    assert after.is_enabled("a", ABC) is False
    assert after.to_dict()["warnings"][0]["path"] == 'features["a"].strategies[0].segments[0]'


def test_hydration_replaces_everything() -> None:
    # Given
    before = FlagSet.from_unleash(document(feature("a"), feature("b")))

    # When
    after = before.apply_unleash_delta([hydration(feature("c"))])

    # Then
    assert after.keys() == ["c"]


def test_events_apply_in_order_and_the_last_event_id_is_kept() -> None:
    # Given
    before = FlagSet.from_unleash(document())
    events = [
        {"eventId": 7, "type": "feature-updated", "feature": feature("a")},
        {"eventId": 8, "type": "feature-updated", "feature": feature("a", enabled=False)},
    ]

    # When
    after = before.apply_unleash_delta(events)

    # Then
    assert after.is_enabled("a", Context()) is False
    assert after.to_dict()["eventId"] == 8
    assert FlagSet.from_dict(after.to_dict()).is_enabled("a", Context()) is False


def test_an_unknown_event_type_is_refused_with_its_path() -> None:
    # Given
    flags = FlagSet.from_unleash(document(feature("a")))

    # When
    with pytest.raises(InvalidDefinition) as raised:
        flags.apply_unleash_delta([{"eventId": 2, "type": "feature-archived"}])

    # Then
    assert raised.value.path == "events[0].type"
    assert "feature-archived" in raised.value.reason


def test_a_malformed_update_changes_nothing() -> None:
    # Given
    flags = FlagSet.from_unleash(document(feature("a")))
    broken = feature("a", strategies=[strategy("flexibleRollout", parameters={"rollout": "x"})])

    # When
    with pytest.raises(InvalidDefinition) as raised:
        flags.apply_unleash_delta([{"eventId": 2, "type": "feature-updated", "feature": broken}])

    # Then
    assert raised.value.path == 'features["a"].strategies[0].parameters.rollout'
    assert flags.is_enabled("a", Context()) is True


def test_an_update_without_a_feature_name_is_refused() -> None:
    # Given
    flags = FlagSet.from_unleash(document())

    # When
    with pytest.raises(InvalidDefinition) as raised:
        flags.apply_unleash_delta([{"eventId": 2, "type": "feature-updated", "feature": {}}])

    # Then
    assert raised.value.path == "events[0].feature.name"


def test_delta_events_need_a_set_imported_from_unleash() -> None:
    # Given
    native = FlagSet({}, {"version": 1, "flags": {}})

    # When
    with pytest.raises(InvalidDefinition) as raised:
        native.apply_unleash_delta([hydration(feature("a"))])

    # Then
    assert raised.value.path == "format"
