"""API keys (hashed tokens)."""

from __future__ import annotations

import builtins
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from rheostat.store.mappers import to_api_key
from rheostat.store.records import ApiKey
from rheostat.store.repositories.environments import EnvironmentRepository
from rheostat.store.tables import ApiKeyRow, EnvironmentRow

__all__ = ["ApiKeyRepository"]


class ApiKeyRepository:
    """Reads and writes ``api_keys`` in one session."""

    def __init__(self, session: Session, environments: EnvironmentRepository) -> None:
        self._session = session
        self._environments = environments

    def add(self, api_key: ApiKey, *, token_hash: str) -> ApiKey:
        """Insert a key with the SHA-256 hex digest of its token."""
        environment_id = (
            None if api_key.environment is None else self._environments.id_of(api_key.environment)
        )
        row = ApiKeyRow(
            id=api_key.id,
            name=api_key.name,
            scope=api_key.scope.value,
            environment_id=environment_id,
            prefix=api_key.prefix,
            token_hash=token_hash,
            created_at=api_key.created_at,
            created_by=api_key.created_by,
            revoked_at=None,
        )
        self._session.add(row)
        self._session.flush()
        return self._map(row)

    def find(self, key_id: str) -> ApiKey | None:
        """Return the key with this id, or ``None``."""
        row = self._session.get(ApiKeyRow, key_id)
        return None if row is None else self._map(row)

    def find_by_hash(self, token_hash: str) -> tuple[ApiKey, str] | None:
        """Return the key whose token hashes to ``token_hash`` and the stored hash, or ``None``."""
        # one statement (the key and its environment's name): every API request runs it
        found = self._session.execute(
            select(ApiKeyRow, EnvironmentRow.key)
            .outerjoin(EnvironmentRow, EnvironmentRow.id == ApiKeyRow.environment_id)
            .where(ApiKeyRow.token_hash == token_hash)
        ).first()
        if found is None:
            return None
        row, environment = found
        return to_api_key(row, environment), row.token_hash

    def list(self, *, include_revoked: bool) -> builtins.list[ApiKey]:
        """Return keys, oldest first."""
        statement = select(ApiKeyRow).order_by(ApiKeyRow.created_at, ApiKeyRow.id)
        if not include_revoked:
            statement = statement.where(ApiKeyRow.revoked_at.is_(None))
        return [self._map(row) for row in self._session.scalars(statement)]

    def revoke(self, key_id: str, *, at: datetime) -> ApiKey:
        """Mark the key revoked at ``at`` (kept if already revoked)."""
        row = self._session.get_one(ApiKeyRow, key_id)
        if row.revoked_at is None:
            row.revoked_at = at
            self._session.flush()
        return self._map(row)

    def _map(self, row: ApiKeyRow) -> ApiKey:
        environment = None
        if row.environment_id is not None:
            environment = self._session.get_one(EnvironmentRow, row.environment_id).key
        return to_api_key(row, environment)
