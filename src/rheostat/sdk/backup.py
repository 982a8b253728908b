"""The backup file: the last flag document the client applied, for a start with no server.

Written atomically (a temporary file in the same folder, then ``os.replace``), so a crash or a
second process writing at the same moment never leaves a half-written file: a reader sees the
old document or the new one.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Backup", "read_backup", "write_backup"]

logger = logging.getLogger("rheostat.sdk")


@dataclass(frozen=True, slots=True, kw_only=True)
class Backup:
    """A saved document: the environment and revision it was at."""

    environment: str | None
    revision: int
    document: Mapping[str, Any]


def read_backup(path: Path, environment: str | None) -> Backup | None:
    """Return the backup of ``environment`` at ``path``, or ``None`` (missing, unreadable, or
    of another environment). Never raises: a bad backup is only a start without flags."""
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        backup = Backup(
            environment=saved.get("environment"),
            revision=int(saved["revision"]),
            document=saved["document"],
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        logger.warning("rheostat: ignoring the backup file %s: %s", path, error)
        return None
    if environment is not None and backup.environment not in (None, environment):
        logger.warning(
            "rheostat: the backup %s is of %r, not %r", path, backup.environment, environment
        )
        return None
    return backup


def write_backup(path: Path, backup: Backup) -> None:
    """Replace the file at ``path`` with ``backup`` in one step. Raises ``OSError``."""
    body = json.dumps(
        {
            "environment": backup.environment,
            "revision": backup.revision,
            "document": backup.document,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(body)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
