"""Where ``FeatureFlagManager`` keeps flags: the rheostat store, or the seeds' JSON file.

Both speak native definitions: ``document`` gives the snapshot to evaluate, ``put`` creates or
replaces a flag, ``edit`` applies a pure edit to one. Edits are read-modify-write with the
version read (database) or under the file lock (file), so concurrent managers lose nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from rheostat.errors import AlreadyExists, Conflict, NotFound
from rheostat.facade.flag_file import FlagFile, Flags
from rheostat.facade.seed_flags import FeatureFlag, from_definition, to_definition
from rheostat.service import (
    SqlStore,
    create_flag,
    find_flag,
    flag_stats,
    get_flag,
    snapshot,
    update_flag,
)
from rheostat.service.validation import canonical_environment

__all__ = ["DatabaseBackend", "Edit", "FileBackend", "FlagBackend"]

Edit = Callable[[Mapping[str, Any]], Mapping[str, Any]]
_ATTEMPTS = 10
"""Rounds of read-modify-write: every round one of the racing writers wins, so up to this many
managers changing one flag at the same moment all get through."""


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
    """Flags of one environment in the rheostat store, changed through the services."""

    def __init__(self, store: SqlStore, environment: str, *, actor: str) -> None:
        self._store = store
        self._environment = environment
        self._actor = actor

    def document(self) -> tuple[Mapping[str, Any], object]:
        taken = snapshot(self._store, self._environment)
        return taken.document, taken.etag

    def find(self, name: str) -> FeatureFlag | None:
        flag = find_flag(self._store, self._environment, name)
        if flag is None:
            return None
        return from_definition(name, flag.definition, version=flag.version)

    def put(self, name: str, definition: Mapping[str, Any]) -> None:
        self._retrying(lambda: self._put_once(name, definition))

    def edit(self, name: str, edit: Edit) -> None:
        def once() -> None:
            read = get_flag(self._store, self._environment, name)
            update_flag(
                self._store,
                self._environment,
                name,
                edit(read.definition),
                expected_version=read.version,
                actor=self._actor,
            )

        self._retrying(once)

    def stats(self, name: str) -> dict[str, Any]:
        found = flag_stats(self._store, self._environment, name)
        flag = self._required(name)
        return {
            **_seed_stats(flag),
            "version": found.version,
            "versions": found.versions,
            "created_at": found.created_at.isoformat(),
            "updated_at": found.updated_at.isoformat(),
            "last_changed_by": found.last_changed_by,
        }

    def _put_once(self, name: str, definition: Mapping[str, Any]) -> None:
        read = find_flag(self._store, self._environment, name)
        if read is None:
            create_flag(self._store, self._environment, name, definition, actor=self._actor)
        else:
            update_flag(
                self._store,
                self._environment,
                name,
                definition,
                expected_version=read.version,
                actor=self._actor,
            )

    def _required(self, name: str) -> FeatureFlag:
        flag = self.find(name)
        if flag is None:
            raise _not_found(name)
        return flag

    @staticmethod
    def _retrying(change: Callable[[], None]) -> None:
        """Run a read-modify-write again when another writer got in between.

        ``Conflict``: the flag changed since it was read. ``AlreadyExists``: it was missing
        when read and another manager created it meanwhile; the next attempt updates it.
        """
        for attempt in range(_ATTEMPTS):
            try:
                change()
                return
            except (Conflict, AlreadyExists):
                if attempt == _ATTEMPTS - 1:
                    raise


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
