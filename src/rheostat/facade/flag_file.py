"""The seeds' ``config/feature_flags.json``: read whole, changed under a lock, written atomically.

A write goes to a temporary file in the same directory, is flushed and fsynced, then renamed
over the old file with ``os.replace`` (atomic on POSIX), and the directory is fsynced. A process
killed at any moment leaves the old file or the new one, never a torn mix. Writers of the same
file, in this process or others, take turns through an advisory lock on ``<file>.lock``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from rheostat.errors import InvalidDefinition, StorageError
from rheostat.facade.seed_flags import FeatureFlag, parse_seed_flag

__all__ = ["FlagFile", "write_atomically"]

_NEW_FILE_MODE = 0o644

Flags = dict[str, FeatureFlag]


class FlagFile:
    """The flags of one JSON file in the seeds' format (``{"flags": [...]}``)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock_path = self.path.with_name(self.path.name + ".lock")
        self._thread_lock = threading.Lock()

    def read(self) -> Flags:
        """Return the flags by name; a missing file has none.

        Raises:
            InvalidDefinition: the file is not valid JSON or a record is wrong (path named).
            StorageError: the file cannot be read.
        """
        text = self._text()
        if text is None:
            return {}
        try:
            document = json.loads(text)
        except ValueError as error:
            raise InvalidDefinition(str(self.path), f"not valid JSON: {error}") from error
        records = document.get("flags", []) if isinstance(document, dict) else None
        if not isinstance(records, list):
            raise InvalidDefinition(f"{self.path}: flags", "must be a list of flag records")
        flags = [parse_seed_flag(record, f"flags[{i}]") for i, record in enumerate(records)]
        return {flag.name: flag for flag in flags}

    def fingerprint(self) -> tuple[int, int, int] | None:
        """A cheap token that changes when the file is replaced (inode, size, mtime)."""
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return None
        return (info.st_ino, info.st_size, info.st_mtime_ns)

    def update(self, change: Callable[[Flags], Flags]) -> Flags:
        """Read, apply ``change``, and write the result atomically, all under the file lock."""
        with self._locked():
            flags = change(self.read())
            document = {"flags": [flag.to_dict() for flag in flags.values()]}
            write_atomically(self.path, json.dumps(document, indent=2) + "\n")
            return flags

    def _text(self) -> str | None:
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except UnicodeDecodeError as error:
            raise InvalidDefinition(
                str(self.path),
                f"not UTF-8 text: byte 0x{error.object[error.start]:02x} at offset {error.start}",
            ) from error
        except OSError as error:
            raise StorageError(f"cannot read {self.path}: {error.strerror}") from error

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._thread_lock, open(self._lock_path, "a+b") as lock_file:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
            try:
                _remove_stale_temporaries(self.path)  # their writers died; we hold the lock
                yield
            finally:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so that readers see the old or the new file, whole.

    Raises:
        StorageError: the directory is not writable or the disk is full.
    """
    try:
        _write_and_replace(path, text.encode("utf-8"))
    except OSError as error:
        raise StorageError(f"cannot write {path}: {error.strerror or error}") from error


def _write_and_replace(path: Path, data: bytes) -> None:
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, _mode_of(path))
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_directory(path.parent)


def _mode_of(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return _NEW_FILE_MODE


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _remove_stale_temporaries(path: Path) -> None:
    for leftover in path.parent.glob(f".{path.name}.*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()
