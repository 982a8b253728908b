"""Environments and segments through the service."""

from __future__ import annotations

from typing import Any

import pytest

from rheostat.errors import AlreadyExists, Conflict, InvalidDefinition, NotFound, ValidationError
from rheostat.service import (
    AuditAction,
    SqlStore,
    create_api_key,
    create_environment,
    create_flag,
    create_segment,
    delete_environment,
    delete_flag,
    delete_segment,
    get_environment,
    get_segment,
    list_audit_events,
    list_environments,
    list_segments,
    revoke_api_key,
    snapshot,
    update_environment,
    update_segment,
)

PILOTS: dict[str, Any] = {
    "description": "pilot orgs",
    "conditions": [{"attribute": "org_id", "op": "in", "values": ["org-17", "org-42"]}],
}
USES_PILOTS: dict[str, Any] = {
    "rules": [
        {"when": [{"attribute": "org_id", "op": "in_segment", "values": ["pilots"]}], "serve": "on"}
    ],
}


def test_environments_are_created_listed_and_updated_with_versions(store: SqlStore) -> None:
    # Given two environments
    create_environment(store, "staging", actor="alice")
    created = create_environment(store, "production", name="Production", actor="alice")

    # When one is renamed, naming the version read
    updated = update_environment(
        store,
        "production",
        expected_version=created.version,
        description="live traffic",
        actor="bob",
    )

    # Then the change is versioned and audited, and a stale rename is refused
    assert [e.key for e in list_environments(store)] == ["production", "staging"]
    assert (updated.version, updated.name, updated.description) == (2, "Production", "live traffic")
    assert get_environment(store, "production") == updated
    with pytest.raises(Conflict):
        update_environment(store, "production", expected_version=1, name="x", actor="carol")
    event = list_audit_events(store, subject="environment:production")[0]
    assert event.action == AuditAction.ENVIRONMENT_UPDATED
    assert event.after is not None
    assert event.after["description"] == "live traffic"


@pytest.mark.parametrize("key", ["Production", "", "a b", "-x", "x" * 64])
def test_bad_environment_keys_are_refused(store: SqlStore, key: str) -> None:
    # Given / When / Then
    with pytest.raises(ValidationError, match="environment key"):
        create_environment(store, key, actor="alice")


def test_an_environment_key_is_unique(store: SqlStore) -> None:
    # Given / When / Then
    create_environment(store, "production", actor="alice")
    with pytest.raises(AlreadyExists):
        create_environment(store, "production", actor="bob")


def test_only_an_empty_environment_can_be_deleted(store: SqlStore) -> None:
    # Given an environment with a flag, a segment and an SDK key
    create_environment(store, "staging", actor="alice")
    create_flag(store, "staging", "f", {}, actor="alice")
    create_segment(store, "staging", "pilots", PILOTS, actor="alice")
    key = create_api_key(store, name="app", scope="sdk", environment="staging", actor="alice")

    # When it is deleted while full, then after emptying it
    with pytest.raises(Conflict) as refused:
        delete_environment(store, "staging", actor="bob")
    delete_flag(store, "staging", "f", actor="bob")
    delete_segment(store, "staging", "pilots", actor="bob")
    revoke_api_key(store, key.api_key.id, actor="bob")
    delete_environment(store, "staging", actor="bob", reason="unused")

    # Then the first attempt named what is left, and the second removed it
    assert refused.value.details == {
        "environment": "staging",
        "flags": 1,
        "segments": 1,
        "sdk_keys": 1,
    }
    with pytest.raises(NotFound):
        get_environment(store, "staging")
    assert list_audit_events(store, environment="staging")[0].action == (
        AuditAction.ENVIRONMENT_DELETED
    )


def test_segments_are_versioned_and_change_the_snapshot(store: SqlStore) -> None:
    # Given a segment used by a flag
    create_environment(store, "production", actor="alice")
    created = create_segment(store, "production", "pilots", PILOTS, actor="alice")
    create_flag(store, "production", "pilot-feature", USES_PILOTS, actor="alice")
    before = snapshot(store, "production")

    # When the segment gains an org
    wider = {
        **PILOTS,
        "conditions": [
            {"attribute": "org_id", "op": "in", "values": ["org-17", "org-42", "org-99"]}
        ],
    }
    updated = update_segment(
        store, "production", "pilots", wider, expected_version=created.version, actor="bob"
    )

    # Then it has a new version, the snapshot and its etag changed, and a stale update fails
    assert updated.version == 2
    assert get_segment(store, "production", "pilots") == updated
    after = snapshot(store, "production")
    assert after.etag != before.etag
    assert after.document["segments"]["pilots"]["conditions"][0]["values"][-1] == "org-99"
    with pytest.raises(Conflict):
        update_segment(store, "production", "pilots", PILOTS, expected_version=1, actor="carol")
    assert [s.key for s in list_segments(store, "production")] == ["pilots"]


def test_a_segment_in_use_cannot_be_deleted(store: SqlStore) -> None:
    # Given a segment used by a flag
    create_environment(store, "production", actor="alice")
    create_segment(store, "production", "pilots", PILOTS, actor="alice")
    create_flag(store, "production", "pilot-feature", USES_PILOTS, actor="alice")

    # When / Then
    with pytest.raises(Conflict) as refused:
        delete_segment(store, "production", "pilots", actor="bob")
    assert refused.value.details["flags"] == ["pilot-feature"]
    assert get_segment(store, "production", "pilots").version == 1


def test_an_invalid_segment_names_the_path(store: SqlStore) -> None:
    # Given an environment
    create_environment(store, "production", actor="alice")
    nested = {"conditions": [{"attribute": "x", "op": "in_segment", "values": ["other"]}]}

    # When / Then
    with pytest.raises(InvalidDefinition) as refused:
        create_segment(store, "production", "pilots", nested, actor="alice")
    assert refused.value.path.startswith("segments.pilots.conditions[0]")
    assert list_segments(store, "production") == []
