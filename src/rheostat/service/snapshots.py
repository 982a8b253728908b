"""The SDK snapshot of an environment, and a cache of snapshots keyed by revision.

Every committed change of an environment's flags or segments raises its revision in the same
transaction, so a snapshot built for revision R is exact for as long as the environment is at
R, in this process or any other sharing the database. ``SnapshotCache`` keeps the last one per
environment and rebuilds only when the revision moved: a poll costs one indexed row read, and
the document's JSON is encoded once per change, not once per SDK.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rheostat.inputs import validate_lookup
from rheostat.store.unit_of_work import UnitOfWork

__all__ = ["Snapshot", "SnapshotCache", "entity_tag", "revision_of", "snapshot"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    """All flags and segments of one environment, as an SDK loads them.

    Attributes:
        document: native document (``{"version": 1, "segments": {...}, "flags": {...}}``) that
            ``FlagSet.from_dict`` accepts; each flag carries its ``version``.
        etag: quoted strong entity tag (``"<hex>"``) of the document, ready for the ETag header;
            it changes exactly when the document does.
        revision: the environment's revision this document is (grows with every change).
        body: the document as compact UTF-8 JSON, encoded once.
    """

    environment: str
    document: Mapping[str, Any]
    etag: str
    revision: int = 0
    body: bytes = b""


def snapshot(uow: UnitOfWork, environment: str) -> Snapshot:
    """Return the environment's flags and segments for SDKs. Raises ``NotFound``.

    Read it in a ``reading()`` transaction: the revision and the rows are then one state.
    """
    validate_lookup(environment=environment)
    revision = uow.environments.revision_of(environment)
    flags = uow.flags.list(environment)
    segments = uow.segments.list(environment)
    document = {
        "version": 1,
        "segments": {segment.key: dict(segment.definition) for segment in segments},
        "flags": {flag.key: {**flag.definition, "version": flag.version} for flag in flags},
    }
    body = _encoded(document)
    return Snapshot(
        environment=environment,
        document=document,
        etag=_tag(body),
        revision=revision,
        body=body,
    )


def revision_of(uow: UnitOfWork, environment: str) -> int:
    """Return the environment's revision (one indexed row read). Raises ``NotFound``."""
    validate_lookup(environment=environment)
    return uow.environments.revision_of(environment)


def entity_tag(document: Mapping[str, Any]) -> str:
    """A quoted strong ETag for ``document``: equal exactly when the JSON text is equal."""
    return _tag(_encoded(document))


def _encoded(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _tag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


class SnapshotCache:
    """The newest snapshot of each environment, rebuilt only when its revision moves.

    Safe to share between threads (one per server process). A snapshot is never older than
    the revision the caller's transaction sees, so a cached answer is exactly what a fresh
    read would have given.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshots: dict[str, Snapshot] = {}

    def get(self, uow: UnitOfWork, environment: str) -> Snapshot:
        """Return the environment's snapshot as of ``uow``. Raises ``NotFound``."""
        validate_lookup(environment=environment)
        revision = uow.environments.revision_of(environment)
        cached = self._snapshots.get(environment)
        if cached is not None and cached.revision == revision:
            return cached
        taken = snapshot(uow, environment)
        with self._lock:
            newest = self._snapshots.get(environment)
            if newest is None or newest.revision < taken.revision:
                self._snapshots[environment] = taken
        return taken

    def forget(self, environment: str) -> None:
        """Drop the environment's snapshot (it was deleted)."""
        with self._lock:
            self._snapshots.pop(environment, None)
