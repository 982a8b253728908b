"""API keys: shown once, stored hashed, constant-time checked, scoped, revocable."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from rheostat.errors import NotFound, PermissionDenied, Unauthenticated, ValidationError
from rheostat.service import (
    ApiKeyScope,
    AuditAction,
    Change,
    SqlStore,
    authenticate,
    authorize,
    create_api_key,
    create_environment,
    get_api_key,
    list_api_keys,
    list_audit_events,
    revoke_api_key,
    transact,
)
from rheostat.store.tables import ApiKeyRow, AuditEventRow


@pytest.fixture
def production(store: SqlStore) -> str:
    transact(store, create_environment, "production", change=Change(actor="alice"))
    return "production"


def test_a_new_key_is_shown_once_and_stored_only_as_a_hash(
    store: SqlStore, production: str
) -> None:
    # Given / When an SDK key is created
    created = transact(
        store,
        create_api_key,
        name="web app",
        scope="sdk",
        environment=production,
        change=Change(actor="alice"),
    )

    # Then the token is recognisable, authenticates, and the database holds only its hash
    assert created.token.startswith("rh_sdk_")
    assert len(created.token) > 40
    assert created.api_key.prefix == created.token[:11]
    assert transact(store, authenticate, created.token) == created.api_key
    with store.session() as session:
        row = session.scalars(select(ApiKeyRow)).one()
        audit_text = str([(e.before, e.after) for e in session.scalars(select(AuditEventRow))])
    assert row.token_hash == hashlib.sha256(created.token.encode()).hexdigest()
    assert created.token not in str(vars(row))
    assert created.token not in audit_text
    assert created.token not in repr(created)


@pytest.mark.parametrize(
    "token", ["", "rh_sdk_", "rh_sdk_unknown-token-value", "Bearer x", "x" * 500, "rh_admin_x"]
)
def test_unknown_tokens_are_refused_alike(store: SqlStore, production: str, token: str) -> None:
    # Given a real key exists
    transact(
        store,
        create_api_key,
        name="app",
        scope="sdk",
        environment=production,
        change=Change(actor="alice"),
    )

    # When / Then every bad token gets the same answer
    with pytest.raises(Unauthenticated, match="missing, unknown or revoked API key"):
        transact(store, authenticate, token)


def test_a_revoked_key_stops_working_at_once(store: SqlStore, production: str) -> None:
    # Given a working admin key
    created = transact(
        store, create_api_key, name="ops", scope=ApiKeyScope.ADMIN, change=Change(actor="alice")
    )
    transact(store, authenticate, created.token)

    # When it is revoked (twice)
    revoked = transact(
        store, revoke_api_key, created.api_key.id, change=Change(actor="bob", reason="leaked")
    )
    again = transact(store, revoke_api_key, created.api_key.id, change=Change(actor="bob"))

    # Then it no longer authenticates; the revocation is audited once and listed
    assert revoked.revoked_at is not None
    assert not revoked.is_active
    assert again == revoked
    with pytest.raises(Unauthenticated):
        transact(store, authenticate, created.token)
    events = transact(store, list_audit_events, subject=f"api_key:{created.api_key.id}")
    assert [e.action for e in events] == [AuditAction.API_KEY_REVOKED, AuditAction.API_KEY_CREATED]
    assert transact(store, list_api_keys, include_revoked=False) == []
    assert transact(store, get_api_key, created.api_key.id) == revoked


def test_scopes_limit_what_a_key_may_do(store: SqlStore, production: str) -> None:
    # Given an SDK key for production and an admin key
    transact(store, create_environment, "staging", change=Change(actor="alice"))
    sdk = transact(
        store,
        create_api_key,
        name="app",
        scope="sdk",
        environment=production,
        change=Change(actor="a"),
    )
    admin = transact(store, create_api_key, name="ops", scope="admin", change=Change(actor="a"))

    # When / Then the SDK key reads only its environment, the admin key does anything
    authorize(sdk.api_key, "sdk", production)
    with pytest.raises(PermissionDenied, match="staging"):
        authorize(sdk.api_key, "sdk", "staging")
    with pytest.raises(PermissionDenied, match="admin access"):
        authorize(sdk.api_key, ApiKeyScope.ADMIN)
    authorize(admin.api_key, "admin")
    authorize(admin.api_key, "sdk", "staging")


def test_key_creation_validates_its_input(store: SqlStore, production: str) -> None:
    # Given / When / Then
    with pytest.raises(ValidationError, match="sdk key reads one environment"):
        transact(store, create_api_key, name="app", scope="sdk", change=Change(actor="alice"))
    with pytest.raises(ValidationError, match="admin key covers every environment"):
        transact(
            store,
            create_api_key,
            name="ops",
            scope="admin",
            environment=production,
            change=Change(actor="alice"),
        )
    with pytest.raises(ValidationError, match="unknown API key scope"):
        transact(store, create_api_key, name="x", scope="root", change=Change(actor="alice"))
    with pytest.raises(ValidationError, match="name"):
        transact(store, create_api_key, name="", scope="admin", change=Change(actor="alice"))
    with pytest.raises(NotFound, match="environment 'nowhere'"):
        transact(
            store,
            create_api_key,
            name="app",
            scope="sdk",
            environment="nowhere",
            change=Change(actor="alice"),
        )
    with pytest.raises(NotFound):
        transact(store, revoke_api_key, "no-such-id", change=Change(actor="alice"))
