"""API keys: created with a token shown once, stored as a SHA-256 hash, revocable.

Tokens look like ``rh_sdk_<43 url-safe chars>`` or ``rh_admin_<...>``, so a leaked one is easy
to recognise (and to scan for). Lookup is by hash; the comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from rheostat.errors import NotFound, PermissionDenied, Unauthenticated, ValidationError
from rheostat.inputs import validate_lookup, validate_text
from rheostat.service.audit import record_audit
from rheostat.service.change import Change
from rheostat.store.records import ApiKey, ApiKeyScope, AuditAction, CreatedApiKey
from rheostat.store.unit_of_work import UnitOfWork

TOKEN_PREFIXES = {scope: f"rh_{scope.value}_" for scope in ApiKeyScope}
"""Every token starts with one of these, naming its scope."""
_SECRET_BYTES = 32
_SHOWN_SECRET_CHARS = 4
_MAX_NAME = 200
_MAX_TOKEN = 200

__all__ = [
    "authenticate",
    "authorize",
    "create_api_key",
    "get_api_key",
    "list_api_keys",
    "revoke_api_key",
]


def create_api_key(
    uow: UnitOfWork,
    *,
    name: str,
    scope: ApiKeyScope | str,
    environment: str | None = None,
    change: Change,
) -> CreatedApiKey:
    """Create a key; the returned ``token`` is the only time the secret is available.

    Args:
        scope: ``sdk`` keys need ``environment`` (the one they read); ``admin`` keys must not
            have one.

    Raises:
        ValidationError: bad scope, empty name, or environment given/missing for the scope.
        NotFound: no such environment.
    """
    checked_scope = _scope(scope)
    _check_environment_for(checked_scope, environment)
    if environment is not None:
        validate_lookup(environment=environment)
    key_name = _key_name(name)
    token = TOKEN_PREFIXES[checked_scope] + secrets.token_urlsafe(_SECRET_BYTES)
    if environment is not None:
        uow.environments.get(environment)
    api_key = uow.api_keys.add(
        ApiKey(
            id=secrets.token_hex(8),
            name=key_name,
            scope=checked_scope,
            environment=environment,
            prefix=token[: len(TOKEN_PREFIXES[checked_scope]) + _SHOWN_SECRET_CHARS],
            created_at=uow.now,
            created_by=change.actor,
        ),
        token_hash=token_hash(token),
    )
    record_audit(
        uow,
        AuditAction.API_KEY_CREATED,
        subject=f"api_key:{api_key.id}",
        environment=environment,
        states=(None, _state(api_key)),
        change=change,
    )
    return CreatedApiKey(api_key=api_key, token=token)


def list_api_keys(uow: UnitOfWork, *, include_revoked: bool = True) -> list[ApiKey]:
    """Return the keys (never the tokens), oldest first."""
    return uow.api_keys.list(include_revoked=include_revoked)


def get_api_key(uow: UnitOfWork, key_id: str) -> ApiKey:
    """Return one key by id. Raises ``NotFound``."""
    validate_lookup(id=key_id)
    found = uow.api_keys.find(key_id)
    if found is None:
        raise _not_found(key_id)
    return found


def revoke_api_key(uow: UnitOfWork, key_id: str, *, change: Change) -> ApiKey:
    """Revoke a key; it stops authenticating at once. Revoking twice is a no-op.

    Raises:
        NotFound: no such key.
    """
    validate_lookup(id=key_id)
    current = uow.api_keys.find(key_id)
    if current is None:
        raise _not_found(key_id)
    if not current.is_active:
        return current
    revoked = uow.api_keys.revoke(key_id, at=uow.now)
    record_audit(
        uow,
        AuditAction.API_KEY_REVOKED,
        subject=f"api_key:{key_id}",
        environment=current.environment,
        states=(_state(current), _state(revoked)),
        change=change,
    )
    return revoked


def authenticate(uow: UnitOfWork, token: str) -> ApiKey:
    """Return the active key whose token this is.

    Raises:
        Unauthenticated: empty, malformed, unknown or revoked token (one message for all, so
            the answer does not tell which).
    """
    refused = Unauthenticated("missing, unknown or revoked API key")
    if not isinstance(token, str) or len(token) > _MAX_TOKEN:
        raise refused
    if not token.startswith(tuple(TOKEN_PREFIXES.values())):
        raise refused
    presented = token_hash(token)
    found = uow.api_keys.find_by_hash(presented)
    if found is None:
        raise refused
    api_key, stored = found
    if not hmac.compare_digest(stored, presented) or not api_key.is_active:
        raise refused
    if api_key.scope is ApiKeyScope.SDK and api_key.environment is None:
        raise refused  # its environment was deleted
    return api_key


def authorize(api_key: ApiKey, scope: ApiKeyScope | str, environment: str | None = None) -> None:
    """Check that ``api_key`` may act with ``scope`` on ``environment``. Pure; no database.

    ``admin`` keys may do everything; ``sdk`` keys may only read (scope ``sdk``) their own
    environment.

    Raises:
        PermissionDenied: naming the key's scope and what was asked.
    """
    wanted = _scope(scope)
    if api_key.scope is ApiKeyScope.ADMIN:
        return
    if wanted is ApiKeyScope.SDK and environment in (None, api_key.environment):
        return
    asked = f"{wanted.value} access" + ("" if environment is None else f" to {environment!r}")
    raise PermissionDenied(
        f"API key {api_key.prefix}... ({api_key.scope.value} key for"
        f" {api_key.environment!r}) does not allow {asked}",
        details={
            "key_id": api_key.id,
            "scope": api_key.scope.value,
            "wanted": wanted.value,
            "environment": environment,
        },
    )


def token_hash(token: str) -> str:
    """The SHA-256 hex digest stored for ``token``."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _scope(scope: ApiKeyScope | str) -> ApiKeyScope:
    try:
        return ApiKeyScope(scope)
    except ValueError:
        known = ", ".join(s.value for s in ApiKeyScope)
        raise ValidationError(
            f"unknown API key scope {scope!r} (one of {known})", details={"field": "scope"}
        ) from None


def _check_environment_for(scope: ApiKeyScope, environment: str | None) -> None:
    if scope is ApiKeyScope.SDK and environment is None:
        raise ValidationError(
            "an sdk key reads one environment: name it", details={"field": "environment"}
        )
    if scope is ApiKeyScope.ADMIN and environment is not None:
        raise ValidationError(
            "an admin key covers every environment: do not name one",
            details={"field": "environment"},
        )


def _key_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > _MAX_NAME:
        raise ValidationError(
            f"API key name must be non-empty text of at most {_MAX_NAME} characters, got {name!r}",
            details={"field": "name"},
        )
    validate_text(name, "name")
    return name


def _not_found(key_id: str) -> NotFound:
    return NotFound(f"API key {key_id!r} does not exist", details={"key_id": key_id})


def _state(api_key: ApiKey) -> dict[str, Any]:
    return {
        "id": api_key.id,
        "name": api_key.name,
        "scope": api_key.scope.value,
        "environment": api_key.environment,
        "prefix": api_key.prefix,
        "revoked_at": None if api_key.revoked_at is None else api_key.revoked_at.isoformat(),
    }
