"""Environments: create, read, update, delete."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rheostat.errors import Conflict, ValidationError
from rheostat.service.guards import (
    check_actor,
    check_key,
    check_lookup,
    check_text,
    check_version,
    record,
    required_version,
)
from rheostat.store import SqlStore
from rheostat.store.records import AuditAction, Environment

__all__ = [
    "create_environment",
    "delete_environment",
    "get_environment",
    "list_environments",
    "update_environment",
]


def create_environment(
    store: SqlStore,
    key: str,
    *,
    name: str | None = None,
    description: str = "",
    actor: str,
    reason: str | None = None,
) -> Environment:
    """Create an environment (``name`` defaults to ``key``).

    Raises:
        ValidationError: the key is not a slug (``[a-z0-9][a-z0-9_.-]{0,62}``).
        AlreadyExists: an environment with that key exists.
    """
    check_key(key, "environment")
    check_actor(actor, reason)
    with store.unit_of_work() as uow:
        created = uow.environments.add(
            Environment(
                key=key,
                name=_name(name if name is not None else key),
                description=_description(description),
                created_at=uow.now,
                updated_at=uow.now,
            )
        )
        record(
            uow,
            AuditAction.ENVIRONMENT_CREATED,
            subject=f"environment:{key}",
            environment=key,
            states=(None, _state(created)),
            who=(actor, reason),
        )
        return created


def get_environment(store: SqlStore, key: str) -> Environment:
    """Return one environment. Raises ``NotFound``."""
    check_lookup(environment=key)
    with store.unit_of_work() as uow:
        return uow.environments.get(key)


def list_environments(store: SqlStore) -> list[Environment]:
    """Return every environment, sorted by key."""
    with store.unit_of_work() as uow:
        return uow.environments.list()


def update_environment(  # noqa: PLR0913  # store, subject, payload + keyword-only version, actor, reason (issue 4)
    store: SqlStore,
    key: str,
    *,
    expected_version: int,
    name: str | None = None,
    description: str | None = None,
    actor: str,
    reason: str | None = None,
) -> Environment:
    """Change the name and/or description (``None`` keeps the field).

    Raises:
        ValidationError: no ``expected_version``, or a bad name or description.
        NotFound: no such environment. Conflict: ``expected_version`` is stale.
    """
    check_actor(actor, reason)
    required_version(expected_version)
    check_lookup(environment=key)
    with store.unit_of_work() as uow:
        current = uow.environments.get(key, lock=True)
        check_version("environment", {"environment": key}, expected_version, current.version)
        wanted = replace(
            current,
            name=current.name if name is None else _name(name),
            description=current.description if description is None else _description(description),
        )
        if wanted == current:
            return current
        updated = uow.environments.save(wanted, at=uow.now)
        record(
            uow,
            AuditAction.ENVIRONMENT_UPDATED,
            subject=f"environment:{key}",
            environment=key,
            states=(_state(current), _state(updated)),
            who=(actor, reason),
        )
        return updated


def delete_environment(
    store: SqlStore,
    key: str,
    *,
    expected_version: int | None = None,
    actor: str,
    reason: str | None = None,
) -> None:
    """Delete an empty environment.

    Raises:
        NotFound: no such environment. Conflict: it still has flags, segments, experiments (of
            any status: deleting them would lose their exposures and results) or active SDK
            keys (delete or revoke them first), or ``expected_version`` is stale.
    """
    check_actor(actor, reason)
    check_lookup(environment=key)
    with store.unit_of_work() as uow:
        current = uow.environments.get(key, lock=True)
        check_version("environment", {"environment": key}, expected_version, current.version)
        _refuse_if_not_empty(key, uow.environments.count_contents(key))
        uow.environments.delete(key)
        record(
            uow,
            AuditAction.ENVIRONMENT_DELETED,
            subject=f"environment:{key}",
            environment=key,
            states=(_state(current), None),
            who=(actor, reason),
        )


def _refuse_if_not_empty(key: str, counts: dict[str, int]) -> None:
    contents = {kind: n for kind, n in counts.items() if n}
    if not contents:
        return
    listed = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in contents.items())
    advice = (
        "experiments are kept with their exposures and results, so it cannot be deleted"
        if "experiments" in contents
        else "delete or revoke them first"
    )
    raise Conflict(
        f"environment {key!r} still has {listed}; {advice}",
        details={"environment": key, **contents},
    )


_MAX_NAME = 200


def _name(name: object) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > _MAX_NAME:
        raise ValidationError(
            f"environment name must be non-empty text of at most {_MAX_NAME} characters,"
            f" got {name!r}",
            details={"field": "name"},
        )
    check_text(name, "name")
    return name


def _description(description: object) -> str:
    if not isinstance(description, str):
        raise ValidationError(
            f"description must be text, got {description!r}", details={"field": "description"}
        )
    check_text(description, "description", multiline=True)
    return description


def _state(environment: Environment) -> dict[str, Any]:
    return {
        "key": environment.key,
        "name": environment.name,
        "description": environment.description,
        "version": environment.version,
    }
