"""``Client``: evaluate flags in-process from a local file, with emergency overrides.

``Client.from_file("flags.yaml")`` needs no server. It applies ``RHEOSTAT_KILL_<FLAG>``,
``RHEOSTAT_FLAG_<FLAG>`` and ``RHEOSTAT_ROLLOUT_<FLAG>`` from the environment (precedence:
environment > kill switch > rules; for one flag, kill > forced variant > rollout) and reloads the
file when it changes. A reload that fails keeps the last good flags and records the
error in ``last_error``; evaluation never blocks on it and never raises.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rheostat.flags import Context, Evaluation, FlagSet, Variant
from rheostat.flags.overrides import unmatched_variables

__all__ = ["Client"]

logger = logging.getLogger("rheostat.sdk")


class Client:
    """Holds the current ``FlagSet``; reads are lock-free (one attribute read)."""

    def __init__(self, flags: FlagSet, *, environ: Mapping[str, str] | None = None) -> None:
        """Serve ``flags`` with the overrides found in ``environ`` (default: ``os.environ``)."""
        self._environ = os.environ if environ is None else environ
        self._flags = flags.with_overrides(self._environ)
        self._path: Path | None = None
        self._signature: tuple[int, ...] | None = None
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._reload_lock = threading.Lock()
        self.last_error: Exception | None = None

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
        ``default`` with reason ``ERROR`` and error code ``INVALID_CONTEXT``.
        """
        return self._flags.evaluate(key, context, default)

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
        """Stop watching the file."""
        self._stop.set()
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
