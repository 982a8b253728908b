"""Import and export of an environment as a native document."""

from __future__ import annotations

from typing import Any

import pytest

from rheostat.errors import InvalidDefinition, ValidationError
from rheostat.service import (
    AuditAction,
    SqlStore,
    create_environment,
    create_flag,
    export_flags,
    flag_history,
    import_flags,
    list_audit_events,
    list_flags,
    list_segments,
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
    create_environment(store, "staging", actor="alice")
    create_environment(store, "production", actor="alice")
    return store


def test_an_export_imported_elsewhere_recreates_the_environment(environments: SqlStore) -> None:
    # Given staging loaded from a document
    first = import_flags(environments, "staging", DOCUMENT, actor="alice", reason="seed")

    # When staging is exported and imported into production
    exported = export_flags(environments, "staging")
    result = import_flags(environments, "production", exported, actor="bob")

    # Then production equals staging, every flag was created and audited as imported
    assert first.created == ("hybrid-search", "new-checkout")
    assert first.segments_created == ("pilots",)
    assert export_flags(environments, "production") == exported
    assert result.created == ("hybrid-search", "new-checkout")
    assert result.changed
    events = list_audit_events(environments, environment="production")
    assert {e.action for e in events} >= {AuditAction.FLAG_IMPORTED, AuditAction.SEGMENT_CREATED}


def test_importing_the_same_document_again_changes_nothing(environments: SqlStore) -> None:
    # Given an imported document
    import_flags(environments, "staging", DOCUMENT, actor="alice")

    # When it is imported again
    again = import_flags(environments, "staging", DOCUMENT, actor="alice")

    # Then nothing was written
    assert again.unchanged == ("hybrid-search", "new-checkout")
    assert not again.changed
    assert len(flag_history(environments, "staging", "new-checkout")) == 1


def test_merge_keeps_other_flags_and_replace_deletes_them(environments: SqlStore) -> None:
    # Given a flag the document does not mention
    create_flag(environments, "staging", "legacy", {}, actor="alice")

    # When the document is merged, then replaced
    merged = import_flags(environments, "staging", DOCUMENT, actor="alice")
    kept = [f.key for f in list_flags(environments, "staging")]
    replaced = import_flags(environments, "staging", DOCUMENT, mode="replace", actor="alice")

    # Then merge kept it, replace deleted it (its history stays)
    assert merged.deleted == ()
    assert kept == ["hybrid-search", "legacy", "new-checkout"]
    assert replaced.deleted == ("legacy",)
    assert [f.key for f in list_flags(environments, "staging")] == ["hybrid-search", "new-checkout"]
    assert flag_history(environments, "staging", "legacy")[0].deleted


def test_a_dry_run_reports_without_writing(environments: SqlStore) -> None:
    # Given / When
    result = import_flags(environments, "staging", DOCUMENT, dry_run=True, actor="alice")

    # Then
    assert result.created == ("hybrid-search", "new-checkout")
    assert list_flags(environments, "staging") == []
    assert list_segments(environments, "staging") == []


def test_a_bad_document_is_refused_whole(environments: SqlStore) -> None:
    # Given a document whose second flag is broken
    broken = {
        "version": 1,
        "flags": {"good": {}, "bad": {"rules": [{"serve": {"split": {"on": 50, "off": 40}}}]}},
    }

    # When / Then the error names the path, and not even the good flag was written
    with pytest.raises(InvalidDefinition) as refused:
        import_flags(environments, "staging", broken, actor="alice")
    assert refused.value.path == "flags.bad.rules[0].serve.split"
    assert list_flags(environments, "staging") == []


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
        import_flags(environments, "staging", document, actor="alice")


def test_an_unknown_mode_is_refused(environments: SqlStore) -> None:
    # Given / When / Then
    with pytest.raises(ValidationError, match="unknown import mode"):
        import_flags(environments, "staging", DOCUMENT, mode="upsert", actor="alice")
