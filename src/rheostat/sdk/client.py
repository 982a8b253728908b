"""``Client``: evaluate flags in-process, from a server (streamed) or from a local file.

``Client(url=..., api_key=..., environment=..., backup_path=...)`` downloads the environment's
flags and follows the server's stream in a background thread (``sdk.follow``); evaluation
reads the current ``FlagSet`` (one attribute read, no lock, no network) and never raises.
The constructor waits at most ``init_timeout`` for the first download; until then it serves
the backup file (the last document applied, reason ``STALE``) or the caller's defaults
(reason ``DEFAULT``).

``Client.from_file("flags.yaml")`` needs no server. It applies ``RHEOSTAT_KILL_<FLAG>``,
``RHEOSTAT_FLAG_<FLAG>`` and ``RHEOSTAT_ROLLOUT_<FLAG>`` from the environment (precedence:
environment > kill switch > rules; for one flag, kill > forced variant > rollout) and reloads the
file when it changes. A reload that fails keeps the last good flags and records the
error in ``last_error``; evaluation never blocks on it and never raises. The same overrides
apply to flags that come from a server.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rheostat.clock import Clock, SystemClock
from rheostat.flags import Context, Evaluation, FlagSet, Reason, Variant
from rheostat.flags.overrides import unmatched_variables
from rheostat.sdk.backup import Backup, read_backup, write_backup
from rheostat.sdk.follow import ClientStatus, Follower, SyncOptions

__all__ = ["Client", "FlagsChanged"]

logger = logging.getLogger("rheostat.sdk")

_EMPTY_DOCUMENT: Mapping[str, Any] = {"version": 1, "segments": {}, "flags": {}}


@dataclass(frozen=True, slots=True, kw_only=True)
class FlagsChanged:
    """What a change listener receives: the new revision and the flags that changed."""

    revision: int
    keys: frozenset[str]


class Client:
    """Holds the current ``FlagSet``; reads are lock-free (one attribute read)."""

    def __init__(  # noqa: PLR0913  # the issue fixes these keyword names; tuning goes in options
        self,
        flags: FlagSet | None = None,
        *,
        url: str | None = None,
        api_key: str | None = None,
        environment: str | None = None,
        backup_path: str | Path | None = None,
        init_timeout: float = 2.0,
        environ: Mapping[str, str] | None = None,
        options: SyncOptions | None = None,
    ) -> None:
        """Serve ``flags``, or follow the server at ``url`` with ``api_key`` (an sdk key).

        With ``url``: waits at most ``init_timeout`` seconds for the first download, then
        returns whatever happened (the server down is a ``status`` of ``stale`` or ``error``,
        never an exception). ``backup_path`` is read at start (served until the server
        answers) and rewritten atomically on every change. ``environ`` (default
        ``os.environ``) holds the emergency overrides.
        """
        self._environ = os.environ if environ is None else environ
        self._flags = (flags or FlagSet.from_dict(_EMPTY_DOCUMENT)).with_overrides(self._environ)
        self._confirmed = flags is not None or url is None
        self._has_flags = flags is not None or url is None
        self._document: Mapping[str, Any] = _EMPTY_DOCUMENT
        self._revision: int | None = None
        self._status = ClientStatus.READY if self._confirmed else ClientStatus.STALE
        self.status_error: str | None = None
        self._environment = environment
        self._backup_path = None if backup_path is None else Path(backup_path)
        self._change_listeners: list[Callable[[FlagsChanged], None]] = []
        self._status_listeners: list[Callable[[ClientStatus], None]] = []
        self._path: Path | None = None
        self._signature: tuple[int, ...] | None = None
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._reload_lock = threading.Lock()
        self.last_error: Exception | None = None
        self._follower: Follower | None = None
        self._clock: Clock = SystemClock()
        self._tracked: tuple[str, ...] = ()
        if url is not None:
            self._follow(url, api_key, options or SyncOptions(), init_timeout)

    def _follow(
        self, url: str, api_key: str | None, options: SyncOptions, init_timeout: float
    ) -> None:
        if self._backup_path is not None:
            self._serve_backup(self._backup_path)
        headers = {"User-Agent": "rheostat-python"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        params = {"environment": self._environment} if self._environment else {}
        self._follower = Follower(
            url=url, headers=headers, params=params, sink=self, options=options
        )
        self._follower.start()
        self._follower.initialized.wait(max(0.0, init_timeout))

    def _serve_backup(self, path: Path) -> None:
        backup = read_backup(path, self._environment)
        if backup is None:
            return
        try:
            self._flags = FlagSet.from_dict(backup.document).with_overrides(self._environ)
        except Exception as error:  # noqa: BLE001  # a bad backup must not stop the start
            logger.warning("rheostat: ignoring the backup file %s: %s", path, error)
            return
        self._document, self._has_flags = backup.document, True
        self._tracked = _tracked_flags(backup.document.get("flags", {}))

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        *,
        environ: Mapping[str, str] | None = None,
        watch: bool = True,
        poll_interval_s: float = 1.0,
    ) -> Client:
        """Load ``path`` (YAML or JSON) and, if ``watch``, reload it whenever it changes.

        Raises:
            InvalidDefinition: the file cannot be read, is not UTF-8 (naming the byte offset)
                or is not a valid flag document.
            ConfigurationError: an environment override names an unknown variant, or a
                rollout is not a percentage in [0, 100] or is of a flag that is not on/off.
        """
        file = Path(path)
        client = cls(FlagSet.load(file), environ=environ)
        unmatched = unmatched_variables(client._environ, client._flags.keys())
        if unmatched:
            logger.warning("rheostat: overrides that match no flag (typo?): %s", unmatched)
        client._path = file
        client._signature = _signature(file)
        if watch:
            client._start_watching(poll_interval_s)
        return client

    @property
    def flags(self) -> FlagSet:
        """The snapshot currently served (overrides applied)."""
        return self._flags

    def is_enabled(self, key: str, context: Context | str, default: bool = False) -> bool:
        """Return whether ``key`` is on for ``context``. Never raises, never prints.

        ``context`` is a ``Context`` or a ``str`` (taken as ``Context(key=...)``); ``default``
        comes back for an unknown flag or a context of any other type (see ``FlagSet``).
        """
        return self._flags.is_enabled(key, context, default)

    def variant(self, key: str, context: Context | str) -> Variant:
        """Return the variant served to ``context``. Never raises, never prints.

        ``context`` is a ``Context`` or a ``str``; the ``disabled`` variant comes back for an
        unknown flag or a context of any other type.
        """
        return self._flags.variant(key, context)

    def evaluate(self, key: str, context: Context | str, default: Any = None) -> Evaluation:
        """Return the full evaluation. Never raises, never prints.

        ``context`` is a ``Context`` or a ``str``; a context of any other type returns
        ``default`` with reason ``ERROR`` and error code ``INVALID_CONTEXT``. Before the first
        download from the server: the backup's answer with reason ``STALE``, or ``default``
        with reason ``DEFAULT`` when there is no backup.
        """
        if self._confirmed:
            return self._flags.evaluate(key, context, default)
        return self._evaluate_unconfirmed(key, context, default)

    def _evaluate_unconfirmed(self, key: str, context: Context | str, default: Any) -> Evaluation:
        if not self._has_flags:
            return Evaluation(value=default, variant=None, reason=Reason.DEFAULT)
        found = self._flags.evaluate(key, context, default)
        if found.reason is Reason.ERROR:
            return found
        return dataclasses.replace(found, reason=Reason.STALE)

    def track(
        self,
        metric: str,
        context: Context | str,
        value: float | bool = True,
        *,
        flags: Iterable[str] | None = None,
    ) -> None:
        """Count ``value`` of ``metric`` for the variants ``context`` is served. Never raises.

        A ``bool`` is a trial of a proportion (an error, a conversion); a number is an
        observation of a mean (a latency). The value counts for each flag in ``flags``, by
        default every flag that serves a split or has a ``holdback`` variant (what release
        plans compare), under the variant that flag serves ``context`` now: evaluation is
        deterministic, so that is the variant the request was served, and nothing is
        recorded on the evaluation path. Windows are sent every ``flush_interval_s``; with no
        server (``from_file``) nothing is recorded.
        """
        follower = self._follower
        if follower is None:
            return
        try:
            now = self._clock.now()
            served = self._flags
            for flag in self._tracked if flags is None else flags:
                if flag in served:
                    variant = served.variant(flag, context).name
                    follower.metrics.add(flag, variant, metric, value, now=now)
        except Exception:  # tracking must never break the request that tracks
            logger.exception("rheostat: track(%r) failed", metric)

    # Following a server -----------------------------------------------------------------------

    @property
    def status(self) -> ClientStatus:
        """``ready`` (connected, current), ``stale`` (serving the last known flags) or
        ``error`` (no connection for longer than the grace period); ``ready`` without a
        server."""
        return self._status

    @property
    def revision(self) -> int | None:
        """The environment's revision the flags are at (``None``: none from a server yet)."""
        return self._revision

    def add_change_listener(self, listener: Callable[[FlagsChanged], None]) -> None:
        """Call ``listener(FlagsChanged)`` after each change is applied (in the sync thread;
        keep it quick; an exception is logged and ignored)."""
        self._change_listeners.append(listener)

    def add_status_listener(self, listener: Callable[[ClientStatus], None]) -> None:
        """Call ``listener(status)`` whenever ``status`` changes (in the sync thread)."""
        self._status_listeners.append(listener)

    def apply_document(self, document: Mapping[str, Any], revision: int) -> None:
        """Serve ``document`` at ``revision`` (the follower calls it). Raises
        ``InvalidDefinition`` and keeps the current flags if it does not compile."""
        fresh = FlagSet.from_dict(document).with_overrides(self._environ)
        changed = _changed_keys(self._document.get("flags", {}), document.get("flags", {}))
        self._flags, self._document, self._revision = fresh, document, revision
        self._tracked = _tracked_flags(document.get("flags", {}))
        self._confirmed = self._has_flags = True
        self._save_backup()
        _tell(self._change_listeners, FlagsChanged(revision=revision, keys=changed))

    def apply_patch(self, patch: Mapping[str, Any]) -> bool:
        """Apply a stream ``patch``; ``False`` (nothing applied) when it is not based on the
        revision held."""
        if self._revision is None or patch.get("base") != self._revision:
            return False
        document = {
            **self._document,
            "flags": _patched(self._document.get("flags", {}), patch.get("flags", {})),
            "segments": _patched(self._document.get("segments", {}), patch.get("segments", {})),
        }
        self.apply_document(document, int(patch["revision"]))
        return True

    def set_status(self, status: ClientStatus, error: str | None) -> None:
        """Record the connection's status; listeners hear of a change."""
        self.status_error = error
        if status is not self._status:
            self._status = status
            _tell(self._status_listeners, status)

    def _save_backup(self) -> None:
        if self._backup_path is None or self._revision is None:
            return
        backup = Backup(
            environment=self._environment, revision=self._revision, document=self._document
        )
        try:
            write_backup(self._backup_path, backup)
        except OSError as error:
            logger.warning("rheostat: could not write the backup %s: %s", self._backup_path, error)

    def reload(self) -> bool:
        """Re-read the file now if it changed; return True when new flags were swapped in.

        A file that fails to load leaves the last good flags in place; the error is kept in
        ``last_error`` and logged once per distinct error. Concurrent calls are serialised, so an
        older file can never replace a newer one.
        """
        if self._path is None:
            return False
        with self._reload_lock:
            signature = _signature(self._path)
            if signature == self._signature:
                return False
            try:
                fresh = FlagSet.load(self._path).with_overrides(self._environ)
            except Exception as error:  # noqa: BLE001  # any bad file must leave the watcher alive
                self._record_failure(error)
                return False
            self._flags, self._signature, self.last_error = fresh, signature, None
            return True

    def _record_failure(self, error: Exception) -> None:
        if str(error) != str(self.last_error):
            logger.error("rheostat: keeping the last good flags; reload failed: %s", error)
        self.last_error = error

    def close(self) -> None:
        """Stop watching the file or following the server."""
        self._stop.set()
        if self._follower is not None:
            self._follower.close()
        if self._watcher is not None:
            self._watcher.join()
            self._watcher = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _start_watching(self, poll_interval_s: float) -> None:
        def watch() -> None:
            while not self._stop.wait(poll_interval_s):
                self.reload()

        self._watcher = threading.Thread(target=watch, name="rheostat-file-watch", daemon=True)
        self._watcher.start()


def _signature(path: Path) -> tuple[int, ...] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    # inode and ctime catch a rename or a copy that restores the old mtime (cp -p, rsync -t)
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


def _changed_keys(before: Mapping[str, Any], after: Mapping[str, Any]) -> frozenset[str]:
    changed = {key for key, value in after.items() if before.get(key) != value}
    return frozenset(changed | (before.keys() - after.keys()))


def _patched(current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    patched = dict(current)
    for key, value in changes.items():
        if value is None:
            patched.pop(key, None)
        else:
            patched[key] = value
    return patched


def _tell(listeners: list[Callable[[Any], None]], value: object) -> None:
    for listener in list(listeners):
        try:
            listener(value)
        except Exception:  # a listener's bug must not stop the flags from updating
            logger.exception("rheostat: a listener failed")


def _tracked_flags(flags: Mapping[str, Any]) -> tuple[str, ...]:
    """Flags whose variant depends on a split, or that keep a holdback: what gates compare."""
    return tuple(
        key
        for key, definition in flags.items()
        if isinstance(definition, Mapping)
        and ("holdback" in (definition.get("variants") or {}) or _has_split(definition))
    )


def _has_split(definition: Mapping[str, Any]) -> bool:
    rules = definition.get("rules") or []
    return any(
        isinstance(rule, Mapping)
        and isinstance(rule.get("serve"), Mapping)
        and "split" in rule["serve"]
        for rule in rules
    )
