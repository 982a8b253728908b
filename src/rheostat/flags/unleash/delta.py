"""The Unleash delta API: ``hydration`` and change events applied to a canonical document.

Events apply in order: ``hydration`` replaces every feature and segment;
``feature-updated`` adds or replaces one feature (by name); ``feature-removed`` drops one;
``segment-updated`` adds or replaces one segment (by id); ``segment-removed`` drops one. The
result is a features document for ``compile_unleash``, which validates the features
themselves; the last ``eventId`` seen is kept, so a client can resume from it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rheostat.errors import InvalidDefinition
from rheostat.flags.unleash.reading import (
    optional_list,
    require_int,
    require_list,
    require_mapping,
    require_string,
)

__all__ = ["EMPTY_DOCUMENT", "apply_delta", "is_delta_document"]

EMPTY_DOCUMENT: Mapping[str, Any] = {
    "format": "unleash",
    "version": 2,
    "features": [],
    "segments": [],
}


def is_delta_document(raw: Mapping[str, Any]) -> bool:
    """Return whether ``raw`` is a delta-API document or a single event, not a features one."""
    return "events" in raw or "type" in raw


def apply_delta(document: Any, events: Any) -> dict[str, Any]:
    """Return ``document`` (a canonical Unleash document) with delta ``events`` applied.

    ``events`` is a list of events, a ``{"events": [...]}`` document, or one event.

    Raises:
        InvalidDefinition: ``document`` was not imported from Unleash, or an event is malformed
            (the path names it, e.g. ``events[2].type``).
    """
    state = _State.of(document)
    for index, event in enumerate(_event_list(events)):
        path = f"events[{index}]"
        raw = require_mapping(event, path)
        kind = require_string(raw, "type", path)
        apply = _APPLY.get(kind)
        if apply is None:
            known = ", ".join(_APPLY)
            raise InvalidDefinition(f"{path}.type", f"unknown event type {kind!r} ({known})")
        apply(state, raw, path)
        if raw.get("eventId") is not None:
            state.event_id = require_int(raw, "eventId", path)
    return state.document()


def _event_list(events: Any) -> list[Any]:
    if isinstance(events, Mapping):
        return require_list(events["events"], "events") if "events" in events else [events]
    return require_list(events, "events")


@dataclass(slots=True)
class _State:
    version: int
    features: dict[str, Any] = field(default_factory=dict)
    segments: dict[int, Any] = field(default_factory=dict)
    event_id: int | None = None

    @classmethod
    def of(cls, document: Any) -> _State:
        raw = require_mapping(document, "")
        if raw.get("format") != "unleash" and ("features" not in raw or "flags" in raw):
            reason = "delta events apply only to a flag set imported from Unleash"
            raise InvalidDefinition("format", reason)
        version = raw.get("version")
        state = cls(version=version if isinstance(version, int) else 2)
        state.hydrate(raw, "")
        if isinstance(raw.get("eventId"), int):
            state.event_id = raw["eventId"]
        return state

    def hydrate(self, raw: Mapping[str, Any], path: str) -> None:
        self.features = {}
        for index, item in enumerate(optional_list(raw, "features", path)):
            self.put_feature(item, _join(path, f"features[{index}]"), unique=True)
        self.segments = {}
        for index, item in enumerate(optional_list(raw, "segments", path)):
            self.put_segment(item, _join(path, f"segments[{index}]"), unique=True)

    def put_feature(self, raw: Any, path: str, *, unique: bool = False) -> None:
        name = require_string(require_mapping(raw, path), "name", path)
        if unique and name in self.features:
            raise InvalidDefinition(f"{path}.name", f"feature {name!r} appears twice")
        self.features[name] = raw

    def put_segment(self, raw: Any, path: str, *, unique: bool = False) -> None:
        segment_id = require_int(require_mapping(raw, path), "id", path)
        if unique and segment_id in self.segments:
            raise InvalidDefinition(f"{path}.id", f"segment {segment_id} appears twice")
        self.segments[segment_id] = raw

    def document(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "format": "unleash",
            "version": self.version,
            "features": list(self.features.values()),
            "segments": list(self.segments.values()),
        }
        if self.event_id is not None:
            document["eventId"] = self.event_id
        return document


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _hydration(state: _State, raw: Mapping[str, Any], path: str) -> None:
    require_list(raw.get("features"), f"{path}.features")
    state.hydrate(raw, path)


def _feature_updated(state: _State, raw: Mapping[str, Any], path: str) -> None:
    state.put_feature(raw.get("feature"), f"{path}.feature")


def _feature_removed(state: _State, raw: Mapping[str, Any], path: str) -> None:
    state.features.pop(require_string(raw, "featureName", path), None)


def _segment_updated(state: _State, raw: Mapping[str, Any], path: str) -> None:
    state.put_segment(raw.get("segment"), f"{path}.segment")


def _segment_removed(state: _State, raw: Mapping[str, Any], path: str) -> None:
    state.segments.pop(require_int(raw, "segmentId", path), None)


_APPLY: dict[str, Callable[[_State, Mapping[str, Any], str], None]] = {
    "hydration": _hydration,
    "feature-updated": _feature_updated,
    "feature-removed": _feature_removed,
    "segment-updated": _segment_updated,
    "segment-removed": _segment_removed,
}
