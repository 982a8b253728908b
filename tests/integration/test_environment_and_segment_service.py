"""Environments and segments through the service."""

from __future__ import annotations

from typing import Any

import pytest

from rheostat.errors import AlreadyExists, Conflict, InvalidDefinition, NotFound, ValidationError
from rheostat.service import (
    AuditAction,
    Change,
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
    transact,
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
    transact(store, create_environment, "staging", change=Change(actor="alice"))
    created = transact(
        store, create_environment, "production", name="Production", change=Change(actor="alice")
    )

    # When one is renamed, naming the version read
    updated = transact(
        store,
        update_environment,
        "production",
        description="live traffic",
        change=Change(actor="bob", expected_version=created.version),
    )

    # Then the change is versioned and audited, and a stale rename is refused
    assert [e.key for e in transact(store, list_environments)] == ["production", "staging"]
    assert (updated.version, updated.name, updated.description) == (2, "Production", "live traffic")
    assert transact(store, get_environment, "production") == updated
    with pytest.raises(Conflict):
        transact(
            store,
            update_environment,
            "production",
            name="x",
            change=Change(actor="carol", expected_version=1),
        )
    event = transact(store, list_audit_events, subject="environment:production")[0]
    assert event.action == AuditAction.ENVIRONMENT_UPDATED
    assert event.after is not None
    assert event.after["description"] == "live traffic"


@pytest.mark.parametrize("key", ["Production", "", "a b", "-x", "x" * 64])
def test_bad_environment_keys_are_refused(store: SqlStore, key: str) -> None:
    # Given / When / Then
    with pytest.raises(ValidationError, match="environment key"):
        transact(store, create_environment, key, change=Change(actor="alice"))


def test_an_environment_key_is_unique(store: SqlStore) -> None:
    # Given / When / Then
    transact(store, create_environment, "production", change=Change(actor="alice"))
    with pytest.raises(AlreadyExists):
        transact(store, create_environment, "production", change=Change(actor="bob"))


def test_only_an_empty_environment_can_be_deleted(store: SqlStore) -> None:
    # Given an environment with a flag, a segment and an SDK key
    transact(store, create_environment, "staging", change=Change(actor="alice"))
    transact(store, create_flag, "staging", "f", {}, change=Change(actor="alice"))
    transact(store, create_segment, "staging", "pilots", PILOTS, change=Change(actor="alice"))
    key = transact(
        store,
        create_api_key,
        name="app",
        scope="sdk",
        environment="staging",
        change=Change(actor="alice"),
    )

    # When it is deleted while full, then after emptying it
    with pytest.raises(Conflict) as refused:
        transact(store, delete_environment, "staging", change=Change(actor="bob"))
    transact(store, delete_flag, "staging", "f", change=Change(actor="bob"))
    transact(store, delete_segment, "staging", "pilots", change=Change(actor="bob"))
    transact(store, revoke_api_key, key.api_key.id, change=Change(actor="bob"))
    transact(store, delete_environment, "staging", change=Change(actor="bob", reason="unused"))

    # Then the first attempt named what is left, and the second removed it
    assert refused.value.details == {
        "environment": "staging",
        "flags": 1,
        "segments": 1,
        "sdk_keys": 1,
    }
    with pytest.raises(NotFound):
        transact(store, get_environment, "staging")
    assert transact(store, list_audit_events, environment="staging")[0].action == (
        AuditAction.ENVIRONMENT_DELETED
    )


def test_segments_are_versioned_and_change_the_snapshot(store: SqlStore) -> None:
    # Given a segment used by a flag
    transact(store, create_environment, "production", change=Change(actor="alice"))
    created = transact(
        store, create_segment, "production", "pilots", PILOTS, change=Change(actor="alice")
    )
    transact(
        store, create_flag, "production", "pilot-feature", USES_PILOTS, change=Change(actor="alice")
    )
    before = transact(store, snapshot, "production")

    # When the segment gains an org
    wider = {
        **PILOTS,
        "conditions": [
            {"attribute": "org_id", "op": "in", "values": ["org-17", "org-42", "org-99"]}
        ],
    }
    updated = transact(
        store,
        update_segment,
        "production",
        "pilots",
        wider,
        change=Change(actor="bob", expected_version=created.version),
    )

    # Then it has a new version, the snapshot and its etag changed, and a stale update fails
    assert updated.version == 2
    assert transact(store, get_segment, "production", "pilots") == updated
    after = transact(store, snapshot, "production")
    assert after.etag != before.etag
    assert after.document["segments"]["pilots"]["conditions"][0]["values"][-1] == "org-99"
    with pytest.raises(Conflict):
        transact(
            store,
            update_segment,
            "production",
            "pilots",
            PILOTS,
            change=Change(actor="carol", expected_version=1),
        )
    assert [s.key for s in transact(store, list_segments, "production")] == ["pilots"]


def test_a_segment_in_use_cannot_be_deleted(store: SqlStore) -> None:
    # Given a segment used by a flag
    transact(store, create_environment, "production", change=Change(actor="alice"))
    transact(store, create_segment, "production", "pilots", PILOTS, change=Change(actor="alice"))
    transact(
        store, create_flag, "production", "pilot-feature", USES_PILOTS, change=Change(actor="alice")
    )

    # When / Then
    with pytest.raises(Conflict) as refused:
        transact(store, delete_segment, "production", "pilots", change=Change(actor="bob"))
    assert refused.value.details["flags"] == ["pilot-feature"]
    assert transact(store, get_segment, "production", "pilots").version == 1


def test_an_invalid_segment_names_the_path(store: SqlStore) -> None:
    # Given an environment
    transact(store, create_environment, "production", change=Change(actor="alice"))
    nested = {"conditions": [{"attribute": "x", "op": "in_segment", "values": ["other"]}]}

    # When / Then
    with pytest.raises(InvalidDefinition) as refused:
        transact(
            store, create_segment, "production", "pilots", nested, change=Change(actor="alice")
        )
    assert refused.value.path.startswith("segments.pilots.conditions[0]")
    assert transact(store, list_segments, "production") == []
