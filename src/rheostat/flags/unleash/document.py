"""``compile_unleash``: an Unleash client-API document in, compiled flags and a canonical copy out.

Accepted: a features document (``{"version": 1 or 2, "features": [...], "segments": [...]}``,
as ``GET /api/client/features`` returns it), a delta-API document (``{"events": [...]}``,
starting with a ``hydration`` event or applied to an empty set) or a single hydration event.
The canonical document is the features form with ``"format": "unleash"``, so
``FlagSet.from_dict`` sends it back here; it also lists the ``warnings`` found (constructs that
Unleash evaluates as never matching), which are recomputed on every import.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rheostat.errors import InvalidDefinition
from rheostat.flags.compiled import CompiledFlag
from rheostat.flags.unleash.constraints import Predicate, compile_constraints
from rheostat.flags.unleash.delta import EMPTY_DOCUMENT, apply_delta, is_delta_document
from rheostat.flags.unleash.features import CompiledFeature, compile_feature, link_dependency
from rheostat.flags.unleash.flag import UnleashFlag
from rheostat.flags.unleash.reading import (
    Diagnostics,
    feature_path,
    optional_list,
    require_int,
    require_mapping,
)

__all__ = ["compile_unleash"]

SUPPORTED_VERSIONS = (1, 2)


def compile_unleash(document: Any) -> tuple[dict[str, CompiledFlag], dict[str, Any]]:
    """Validate and compile an Unleash document.

    Returns:
        The compiled flags by feature name, and the canonical document.

    Raises:
        InvalidDefinition: naming the path of the first field that cannot be imported.
    """
    raw = require_mapping(document, "")
    if is_delta_document(raw):
        if "features" in raw and "events" in raw:
            raise InvalidDefinition("events", "a document holds either features or events")
        return compile_unleash(apply_delta(EMPTY_DOCUMENT, raw.get("events", [raw])))
    version = _version(raw)
    diagnostics = Diagnostics()
    segments = _compile_segments(optional_list(raw, "segments", ""), diagnostics)
    features = _compile_features(optional_list(raw, "features", ""), segments, diagnostics)
    flags: dict[str, CompiledFlag] = {}
    for name, feature in features.items():
        dependencies = tuple(
            link_dependency(spec, features, diagnostics) for spec in feature.dependencies
        )
        flags[name] = UnleashFlag(key=name, targeting=feature.targeting, dependencies=dependencies)
    return flags, _canonical(raw, version, diagnostics)


def _version(raw: Mapping[str, Any]) -> int:
    if raw.get("format", "unleash") != "unleash":
        raise InvalidDefinition("format", f"expected 'unleash', got {raw['format']!r}")
    if raw.get("version") is None:
        return SUPPORTED_VERSIONS[-1]
    version = require_int(raw, "version", "")
    if version not in SUPPORTED_VERSIONS:
        raise InvalidDefinition("version", f"Unleash client-API version {version} is not 1 or 2")
    return version


def _compile_segments(
    items: list[Any], diagnostics: Diagnostics
) -> dict[int, tuple[Predicate, ...]]:
    segments: dict[int, tuple[Predicate, ...]] = {}
    for index, item in enumerate(items):
        path = f"segments[{index}]"
        segment_id = require_int(require_mapping(item, path), "id", path)
        if segment_id in segments:
            raise InvalidDefinition(f"{path}.id", f"segment {segment_id} is defined twice")
        segments[segment_id] = compile_constraints(
            item.get("constraints"), f"{path}.constraints", diagnostics
        )
    return segments


def _compile_features(
    items: list[Any], segments: Mapping[int, tuple[Predicate, ...]], diagnostics: Diagnostics
) -> dict[str, CompiledFeature]:
    features: dict[str, CompiledFeature] = {}
    for index, item in enumerate(items):
        feature = compile_feature(item, index, segments, diagnostics)
        name = feature.targeting.name
        if name in features:
            raise InvalidDefinition(feature_path(name), "the feature is defined twice")
        features[name] = feature
    return features


def _canonical(raw: Mapping[str, Any], version: int, diagnostics: Diagnostics) -> dict[str, Any]:
    canonical: dict[str, Any] = {
        "format": "unleash",
        "version": version,
        "features": _plain(optional_list(raw, "features", ""), "features"),
        "segments": _plain(optional_list(raw, "segments", ""), "segments"),
    }
    if raw.get("eventId") is not None:
        canonical["eventId"] = require_int(raw, "eventId", "")
    canonical["warnings"] = diagnostics.warnings
    return canonical


def _plain(value: Any, path: str) -> Any:
    """Return a deep, JSON-only copy of ``value``."""
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as error:
        raise InvalidDefinition(path, f"not JSON-serialisable: {error}") from error
