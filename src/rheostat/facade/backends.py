"""Where ``FeatureFlagManager`` keeps flags: the rheostat store, or the seeds' JSON file.

Both speak native definitions: ``document`` gives the snapshot to evaluate, ``put`` creates or
replaces a flag, ``edit`` applies a pure edit to one. Edits are read-modify-write inside one
transaction with the environment locked (database) or under the file lock (file), so
concurrent managers lose nothing and never fail for each other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from rheostat.errors import NotFound
from rheostat.facade.flag_file import FlagFile, Flags
from rheostat.facade.seed_flags import FeatureFlag, from_definition, to_definition
from rheostat.flags.canonical import canonical_environment
from rheostat.service import Change, SqlStore, edit_flag, find_flag, flag_stats, put_flag, snapshot

__all__ = ["DatabaseBackend", "Edit", "FileBackend", "FlagBackend"]

Edit = Callable[[Mapping[str, Any]], Mapping[str, Any]]


class FlagBackend(Protocol):
    """What the manager needs from a place that keeps flags."""

    def document(self) -> tuple[Mapping[str, Any], object]:
        """Return the native document of all flags and a token that changes with it."""
        ...

    def find(self, name: str) -> FeatureFlag | None:
        """Return the seed view of a flag, or ``None``."""
        ...

    def put(self, name: str, definition: Mapping[str, Any]) -> None:
        """Create or replace a flag."""
        ...

    def edit(self, name: str, edit: Edit) -> None:
        """Apply ``edit`` to an existing flag. Raises ``NotFound``."""
        ...

    def stats(self, name: str) -> dict[str, Any]:
        """Return facts about one flag. Raises ``NotFound``."""
        ...


class DatabaseBackend:
    """Flags of one environment in the rheostat store, changed through the services.

    Each operation is one transaction. Changes name no version: they apply to the flag as it
    is committed (the services lock the environment first), so concurrent managers never get
    a ``Conflict`` and lose nothing.
    """

    def __init__(self, store: SqlStore, environment: str, *, actor: str) -> None:
        self._store = store
        self._environment = environment
        self._change = Change(actor=actor)

    def document(self) -> tuple[Mapping[str, Any], object]:
        with self._store.reading() as uow:
            taken = snapshot(uow, self._environment)
        return taken.document, taken.etag

    def find(self, name: str) -> FeatureFlag | None:
        with self._store.reading() as uow:
            flag = find_flag(uow, self._environment, name)
        if flag is None:
            return None
        return from_definition(name, flag.definition, version=flag.version)

    def put(self, name: str, definition: Mapping[str, Any]) -> None:
        with self._store.unit_of_work() as uow:
            put_flag(uow, self._environment, name, definition, change=self._change)

    def edit(self, name: str, edit: Edit) -> None:
        with self._store.unit_of_work() as uow:
            edit_flag(uow, self._environment, name, edit, change=self._change)

    def stats(self, name: str) -> dict[str, Any]:
        with self._store.reading() as uow:
            found = flag_stats(uow, self._environment, name)
        flag = self._required(name)
        return {
            **_seed_stats(flag),
            "version": found.version,
            "versions": found.versions,
            "created_at": found.created_at.isoformat(),
            "updated_at": found.updated_at.isoformat(),
            "last_changed_by": found.last_changed_by,
        }

    def _required(self, name: str) -> FeatureFlag:
        flag = self.find(name)
        if flag is None:
            raise _not_found(name)
        return flag


class FileBackend:
    """Flags in the seeds' JSON file."""

    def __init__(self, flag_file: FlagFile) -> None:
        self._file = flag_file

    def document(self) -> tuple[Mapping[str, Any], object]:
        token = self._file.fingerprint()
        flags = self._file.read()
        return _document(flags), token

    def find(self, name: str) -> FeatureFlag | None:
        return self._file.read().get(name)

    def put(self, name: str, definition: Mapping[str, Any]) -> None:
        self._file.update(
            lambda flags: _validated({**flags, name: from_definition(name, definition)})
        )

    def edit(self, name: str, edit: Edit) -> None:
        def change(flags: Flags) -> Flags:
            if name not in flags:
                raise _not_found(name)
            edited = from_definition(name, edit(to_definition(flags[name])))
            return _validated({**flags, name: edited})

        self._file.update(change)

    def stats(self, name: str) -> dict[str, Any]:
        flag = self.find(name)
        if flag is None:
            raise _not_found(name)
        return {**_seed_stats(flag), "version": None, "versions": None}


def _document(flags: Flags) -> dict[str, Any]:
    return {"version": 1, "flags": {name: to_definition(flag) for name, flag in flags.items()}}


def _validated(flags: Flags) -> Flags:
    """Refuse to write a file whose flags the engine would not load."""
    canonical_environment({name: to_definition(flag) for name, flag in flags.items()}, {})
    return flags


def _seed_stats(flag: FeatureFlag) -> dict[str, Any]:
    return {
        "name": flag.name,
        "status": flag.status.value,
        "rollout_percentage": flag.rollout_percentage,
        "enabled_users": len(flag.enabled_users),
        "enabled_groups": len(flag.enabled_groups),
        "conditions": len(flag.conditions),
    }


def _not_found(name: str) -> NotFound:
    return NotFound(f"feature flag {name!r} does not exist", details={"flag": name})
