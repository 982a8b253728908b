"""``FeatureFlagManager``: seed 001's flag API on top of rheostat (database or JSON file).

```python
flags = FeatureFlagManager()                       # config/feature_flags.json, as in the seed
flags = FeatureFlagManager(database_url="postgresql://...", environment="production")
flags.set_flag("new_ner_model", enabled=True, rollout_percentage=10, description="BioBERT")
flags.is_enabled("new_ner_model", user_id="user123")
flags.set_rollout_percentage("new_ner_model", 25)
```

Evaluation uses the rheostat engine (salted MurmurHash3 bucketing, the same in every process),
on a snapshot refreshed at most every ``refresh_interval_s`` and right after this manager's own
changes. Changes made through a database-backed manager are versioned and audited like any
other (actor ``feature-flag-manager`` unless told otherwise).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from rheostat.clock import Clock, SystemClock
from rheostat.errors import (
    AlreadyExists,
    ConfigurationError,
    NotFound,
    RheostatError,
    ValidationError,
)
from rheostat.facade.backends import DatabaseBackend, FileBackend, FlagBackend
from rheostat.facade.flag_file import FlagFile
from rheostat.facade.seed_flags import FeatureFlag, SeedStatus, to_definition
from rheostat.flags import Context, FlagSet
from rheostat.flags.edits import with_enabled, with_rollout, with_targets_added
from rheostat.service import (
    Change,
    SqlStore,
    create_environment,
    get_environment,
    migrate_database,
    open_store,
)

__all__ = ["DEFAULT_CONFIG_PATH", "FeatureFlag", "FeatureFlagManager"]

DEFAULT_CONFIG_PATH = Path("config/feature_flags.json")
logger = logging.getLogger("rheostat.facade")
_EMPTY = FlagSet.from_dict({"version": 1, "flags": {}})


class FeatureFlagManager:
    """Seed 001's ``FeatureFlagManager``, backed by the rheostat store or by a JSON file.

    ``FeatureFlagManager()`` uses ``config/feature_flags.json`` (the seed's format, written
    atomically); ``FeatureFlagManager("other.json")`` another file;
    ``FeatureFlagManager(database_url=..., environment="production")`` the rheostat database
    (migrated and the environment created if needed); ``store=`` an open ``SqlStore``.
    """

    def __init__(  # noqa: PLR0913  # the seed's signature, kept for drop-in use
        self,
        config_path: str | Path | None = None,
        *,
        database_url: str | None = None,
        store: SqlStore | None = None,
        environment: str = "production",
        actor: str = "feature-flag-manager",
        refresh_interval_s: float = 5.0,
        clock: Clock | None = None,
    ) -> None:
        self._clock: Clock = clock or SystemClock()
        self._refresh_interval_s = refresh_interval_s
        if sum(given is not None for given in (config_path, database_url, store)) > 1:
            raise ConfigurationError("give one of config_path, database_url and store, not several")
        self._owned_store = None if database_url is None else _migrated_store(database_url)
        self._backend = _backend(config_path, store or self._owned_store, (environment, actor))
        self._lock = threading.Lock()
        self._flag_set = _EMPTY
        self._token: object = None
        self._loaded_at: float | None = None

    # Changing flags ---------------------------------------------------------------------------

    def set_flag(  # noqa: PLR0913  # the seed's signature, kept for drop-in use
        self,
        name: str,
        enabled: bool = True,
        rollout_percentage: float = 0.0,
        description: str = "",
        enabled_users: Iterable[str] = (),
        enabled_groups: Iterable[str] = (),
        conditions: Mapping[str, Any] | None = None,
    ) -> FeatureFlag:
        """Create or replace a flag and return it.

        Args:
            enabled: ``False`` creates it switched off (kill switch engaged).
            rollout_percentage: share of users (0-100, 3 decimals) who get it.
            enabled_users, enabled_groups: allow-lists that always get it while enabled.
            conditions: attribute -> value or list of values; all must hold for the rollout.

        Raises:
            ValidationError / InvalidDefinition: a bad name or value, naming it.
        """
        _check_percentage(rollout_percentage, name)
        flag = FeatureFlag(
            name=name,
            status=_status(enabled, rollout_percentage),
            rollout_percentage=rollout_percentage,
            enabled_users=tuple(enabled_users),
            enabled_groups=tuple(enabled_groups),
            conditions={k: _values(v) for k, v in (conditions or {}).items()},
            description=description,
        )
        self._backend.put(name, to_definition(flag))
        return self._changed(name)

    def set_rollout_percentage(self, name: str, percentage: float) -> FeatureFlag:
        """Serve the flag to ``percentage`` % of users; those who had it keep it when widening.

        Raises:
            NotFound: no such flag. ValidationError: not within 0..100.
        """
        self._backend.edit(name, lambda d: with_rollout(d, percentage, name))
        return self._changed(name)

    def enable_flag(self, name: str) -> FeatureFlag:
        """Turn the flag on for everyone (100 %). Raises ``NotFound``."""
        self._backend.edit(name, lambda d: with_rollout(with_enabled(d, True), 100, name))
        return self._changed(name)

    def disable_flag(self, name: str) -> FeatureFlag:
        """Kill switch: off for everyone, allow-lists included; the percentage is kept."""
        self._backend.edit(name, lambda d: with_enabled(d, False))
        return self._changed(name)

    def add_user_to_flag(self, name: str, user_id: str) -> FeatureFlag:
        """Allow-list ``user_id``: they get the flag whatever the percentage."""
        self._backend.edit(name, lambda d: with_targets_added(d, "on", users=[user_id], groups=()))
        return self._changed(name)

    def add_group_to_flag(self, name: str, group: str) -> FeatureFlag:
        """Allow-list members of ``group`` (``is_enabled(..., groups=[group])``)."""
        self._backend.edit(name, lambda d: with_targets_added(d, "on", users=(), groups=[group]))
        return self._changed(name)

    # Reading flags ----------------------------------------------------------------------------

    def is_enabled(
        self,
        name: str,
        user_id: str | None = None,
        groups: Iterable[str] = (),
        attributes: Mapping[str, Any] | None = None,
    ) -> bool:
        """Whether ``name`` is on for this user; unknown flags are off. Never raises."""
        context_attributes = dict(attributes or {})
        if groups:
            context_attributes["groups"] = list(groups)
        context = Context(
            key="" if user_id is None else str(user_id), attributes=context_attributes
        )
        return self._current().is_enabled(name, context)

    def get_flag(self, name: str) -> FeatureFlag | None:
        """Return the flag as the seed shows it, or ``None`` when there is no such flag."""
        return self._backend.find(name)

    def get_flag_stats(self, name: str) -> dict[str, Any]:
        """Return status, percentage, allow-list sizes and (database) version facts.

        Raises:
            NotFound: no such flag.
        """
        return self._backend.stats(name)

    def list_flags(self) -> list[FeatureFlag]:
        """Return every flag, sorted by name."""
        document, _ = self._backend.document()
        return [flag for name in sorted(document["flags"]) if (flag := self.get_flag(name))]

    def close(self) -> None:
        """Release the database connections this manager opened (not a store passed in)."""
        if self._owned_store is not None:
            self._owned_store.close()

    def reload(self) -> None:
        """Load the flags again now (the seed's ``_load_flags``)."""
        with self._lock:
            self._loaded_at = None
        self._current()

    # Internals --------------------------------------------------------------------------------

    def _changed(self, name: str) -> FeatureFlag:
        with self._lock:
            self._loaded_at = None
        flag = self._backend.find(name)
        if flag is None:  # deleted by someone else in between
            raise NotFound(f"feature flag {name!r} does not exist", details={"flag": name})
        return flag

    def _current(self) -> FlagSet:
        now = self._clock.monotonic()
        with self._lock:
            fresh = self._loaded_at is not None and now - self._loaded_at < self._refresh_interval_s
            if fresh:
                return self._flag_set
            try:
                document, token = self._backend.document()
                if token != self._token or self._loaded_at is None:
                    self._flag_set, self._token = FlagSet.from_dict(document), token
            except RheostatError:
                logger.exception("rheostat: cannot load flags; keeping the last good set")
            self._loaded_at = now
            return self._flag_set


def _migrated_store(database_url: str) -> SqlStore:
    migrate_database(database_url)
    return open_store(database_url)


def _backend(
    config_path: str | Path | None, store: SqlStore | None, where: tuple[str, str]
) -> FlagBackend:
    if store is None:
        return FileBackend(FlagFile(DEFAULT_CONFIG_PATH if config_path is None else config_path))
    environment, actor = where
    _ensure_environment(store, environment, actor)
    return DatabaseBackend(store, environment, actor=actor)


def _ensure_environment(store: SqlStore, environment: str, actor: str) -> None:
    try:
        with store.reading() as uow:
            get_environment(uow, environment)
    except NotFound:
        with (
            contextlib.suppress(AlreadyExists),
            store.unit_of_work() as uow,
        ):  # another manager created it meanwhile
            create_environment(
                uow, environment, change=Change(actor=actor, reason="FeatureFlagManager")
            )


def _status(enabled: bool, percentage: float) -> SeedStatus:
    if not enabled:
        return SeedStatus.DISABLED
    return SeedStatus.ENABLED if percentage >= 100 else SeedStatus.PERCENTAGE


def _values(value: Any) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, list | tuple | set | frozenset) else (value,)


def _check_percentage(percentage: object, name: str) -> None:
    if (
        isinstance(percentage, bool)
        or not isinstance(percentage, int | float)
        or not 0 <= percentage <= 100  # percent bounds
    ):
        raise ValidationError(
            f"rollout_percentage for flag {name!r} must be a number from 0 to 100,"
            f" got {percentage!r}",
            details={"flag": name, "field": "rollout_percentage"},
        )
