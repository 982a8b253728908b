"""Environments: create, read, update, delete."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rheostat.errors import Conflict, ValidationError
from rheostat.inputs import validate_key, validate_lookup, validate_text
from rheostat.service.audit import record_audit
from rheostat.service.change import Change, refuse_stale
from rheostat.store.records import AuditAction, Environment
from rheostat.store.unit_of_work import UnitOfWork

__all__ = [
    "create_environment",
    "delete_environment",
    "get_environment",
    "list_environments",
    "update_environment",
]


def create_environment(
    uow: UnitOfWork,
    key: str,
    *,
    name: str | None = None,
    description: str = "",
    change: Change,
) -> Environment:
    """Create an environment (``name`` defaults to ``key``).

    Raises:
        ValidationError: the key is not a slug (``[a-z0-9][a-z0-9_.-]{0,62}``).
        AlreadyExists: an environment with that key exists.
    """
    validate_key(key, "environment")
    created = uow.environments.add(
        Environment(
            key=key,
            name=_name(name if name is not None else key),
            description=_description(description),
            created_at=uow.now,
            updated_at=uow.now,
        )
    )
    record_audit(
        uow,
        AuditAction.ENVIRONMENT_CREATED,
        subject=f"environment:{key}",
        environment=key,
        states=(None, _state(created)),
        change=change,
    )
    return created


def get_environment(uow: UnitOfWork, key: str) -> Environment:
    """Return one environment. Raises ``NotFound``."""
    validate_lookup(environment=key)
    return uow.environments.get(key)


def list_environments(uow: UnitOfWork) -> list[Environment]:
    """Return every environment, sorted by key."""
    return uow.environments.list()


def update_environment(
    uow: UnitOfWork,
    key: str,
    *,
    name: str | None = None,
    description: str | None = None,
    change: Change,
) -> Environment:
    """Change the name and/or description (``None`` keeps the field).

    Raises:
        ValidationError: no ``change.expected_version``, or a bad name or description.
        NotFound: no such environment. Conflict: ``change.expected_version`` is stale.
    """
    validate_lookup(environment=key)
    current = uow.environments.get(key, lock=True)
    refuse_stale("environment", {"environment": key}, change.expected_version, current.version)
    wanted = replace(
        current,
        name=current.name if name is None else _name(name),
        description=current.description if description is None else _description(description),
    )
    if wanted == current:
        return current
    updated = uow.environments.save(wanted, at=uow.now)
    record_audit(
        uow,
        AuditAction.ENVIRONMENT_UPDATED,
        subject=f"environment:{key}",
        environment=key,
        states=(_state(current), _state(updated)),
        change=change,
    )
    return updated


def delete_environment(
    uow: UnitOfWork,
    key: str,
    *,
    change: Change,
) -> None:
    """Delete an empty environment.

    Raises:
        NotFound: no such environment. Conflict: it still has flags, segments, experiments (of
            any status: deleting them would lose their exposures and results) or active SDK
            keys (delete or revoke them first), or ``change.expected_version`` is stale.
    """
    validate_lookup(environment=key)
    current = uow.environments.get(key, lock=True)
    refuse_stale("environment", {"environment": key}, change.expected_version, current.version)
    _refuse_if_not_empty(key, uow.environments.count_contents(key))
    uow.environments.delete(key)
    record_audit(
        uow,
        AuditAction.ENVIRONMENT_DELETED,
        subject=f"environment:{key}",
        environment=key,
        states=(_state(current), None),
        change=change,
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
    validate_text(name, "name")
    return name


def _description(description: object) -> str:
    if not isinstance(description, str):
        raise ValidationError(
            f"description must be text, got {description!r}", details={"field": "description"}
        )
    validate_text(description, "description", multiline=True)
    return description


def _state(environment: Environment) -> dict[str, Any]:
    return {
        "key": environment.key,
        "name": environment.name,
        "description": environment.description,
        "version": environment.version,
    }
