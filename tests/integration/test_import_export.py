"""Import and export of an environment as a native document."""

from __future__ import annotations

from typing import Any

import pytest

from rheostat.errors import InvalidDefinition, ValidationError
from rheostat.service import (
    AuditAction,
    Change,
    SqlStore,
    create_environment,
    create_flag,
    export_flags,
    flag_history,
    import_flags,
    list_audit_events,
    list_flags,
    list_segments,
    transact,
)

DOCUMENT: dict[str, Any] = {
    "version": 1,
    "segments": {
        "pilots": {"conditions": [{"attribute": "org_id", "op": "in", "values": ["org-17"]}]}
    },
    "flags": {
        "new-checkout": {
            "description": "New checkout",
            "rules": [
                {
                    "when": [{"attribute": "org_id", "op": "in_segment", "values": ["pilots"]}],
                    "serve": "on",
                },
                {"serve": {"split": {"on": 5, "off": 95}}},
            ],
        },
        "hybrid-search": {"enabled": False},
    },
}


@pytest.fixture
def environments(store: SqlStore) -> SqlStore:
    transact(store, create_environment, "staging", change=Change(actor="alice"))
    transact(store, create_environment, "production", change=Change(actor="alice"))
    return store


def test_an_export_imported_elsewhere_recreates_the_environment(environments: SqlStore) -> None:
    # Given staging loaded from a document
    first = transact(
        environments, import_flags, "staging", DOCUMENT, change=Change(actor="alice", reason="seed")
    )

    # When staging is exported and imported into production
    exported = transact(environments, export_flags, "staging")
    result = transact(
        environments, import_flags, "production", exported, change=Change(actor="bob")
    )

    # Then production equals staging, every flag was created and audited as imported
    assert first.created == ("hybrid-search", "new-checkout")
    assert first.segments_created == ("pilots",)
    assert transact(environments, export_flags, "production") == exported
    assert result.created == ("hybrid-search", "new-checkout")
    assert result.changed
    events = transact(environments, list_audit_events, environment="production")
    assert {e.action for e in events} >= {AuditAction.FLAG_IMPORTED, AuditAction.SEGMENT_CREATED}


def test_importing_the_same_document_again_changes_nothing(environments: SqlStore) -> None:
    # Given an imported document
    transact(environments, import_flags, "staging", DOCUMENT, change=Change(actor="alice"))

    # When it is imported again
    again = transact(environments, import_flags, "staging", DOCUMENT, change=Change(actor="alice"))

    # Then nothing was written
    assert again.unchanged == ("hybrid-search", "new-checkout")
    assert not again.changed
    assert len(transact(environments, flag_history, "staging", "new-checkout")) == 1


def test_merge_keeps_other_flags_and_replace_deletes_them(environments: SqlStore) -> None:
    # Given a flag the document does not mention
    transact(environments, create_flag, "staging", "legacy", {}, change=Change(actor="alice"))

    # When the document is merged, then replaced
    merged = transact(environments, import_flags, "staging", DOCUMENT, change=Change(actor="alice"))
    kept = [f.key for f in transact(environments, list_flags, "staging")]
    replaced = transact(
        environments,
        import_flags,
        "staging",
        DOCUMENT,
        mode="replace",
        change=Change(actor="alice"),
    )

    # Then merge kept it, replace deleted it (its history stays)
    assert merged.deleted == ()
    assert kept == ["hybrid-search", "legacy", "new-checkout"]
    assert replaced.deleted == ("legacy",)
    assert [f.key for f in transact(environments, list_flags, "staging")] == [
        "hybrid-search",
        "new-checkout",
    ]
    assert transact(environments, flag_history, "staging", "legacy")[0].deleted


def test_a_dry_run_reports_without_writing(environments: SqlStore) -> None:
    # Given / When
    result = transact(
        environments, import_flags, "staging", DOCUMENT, dry_run=True, change=Change(actor="alice")
    )

    # Then
    assert result.created == ("hybrid-search", "new-checkout")
    assert transact(environments, list_flags, "staging") == []
    assert transact(environments, list_segments, "staging") == []


def test_a_bad_document_is_refused_whole(environments: SqlStore) -> None:
    # Given a document whose second flag is broken
    broken = {
        "version": 1,
        "flags": {"good": {}, "bad": {"rules": [{"serve": {"split": {"on": 50, "off": 40}}}]}},
    }

    # When / Then the error names the path, and not even the good flag was written
    with pytest.raises(InvalidDefinition) as refused:
        transact(environments, import_flags, "staging", broken, change=Change(actor="alice"))
    assert refused.value.path == "flags.bad.rules[0].serve.split"
    assert transact(environments, list_flags, "staging") == []


@pytest.mark.parametrize(
    ("document", "error"),
    [
        ({"version": 2, "flags": {}}, "unsupported document version"),
        ({"flags": {}, "extra": 1}, "unknown field"),
        ({"flags": []}, "must be a mapping"),
    ],
)
def test_malformed_documents_are_invalid(
    environments: SqlStore, document: dict[str, Any], error: str
) -> None:
    # Given / When / Then
    with pytest.raises(InvalidDefinition, match=error):
        transact(environments, import_flags, "staging", document, change=Change(actor="alice"))


def test_an_unknown_mode_is_refused(environments: SqlStore) -> None:
    # Given / When / Then
    with pytest.raises(ValidationError, match="unknown import mode"):
        transact(
            environments,
            import_flags,
            "staging",
            DOCUMENT,
            mode="upsert",
            change=Change(actor="alice"),
        )
