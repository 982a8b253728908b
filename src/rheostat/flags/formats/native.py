"""The native flag document: validation into model values, and the canonical form.

Every problem raises ``InvalidDefinition`` whose path names the field
(``flags.new-checkout.rules[1].serve.split``); a document is accepted whole or not at all.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from typing import Any

from rheostat.errors import InvalidDefinition
from rheostat.flags.bucketing import BUCKETS, HASH_VERSIONS, percent_to_buckets
from rheostat.flags.compiled import CompiledFlag
from rheostat.flags.compiler import compile_flags
from rheostat.flags.formats._conditions import parse_condition
from rheostat.flags.formats._dump import dump_flag as dump_flag_definition
from rheostat.flags.formats._dump import dump_segment
from rheostat.flags.formats._fields import (
    check_fields,
    optional_bool,
    optional_str,
    require_list,
    require_mapping,
    require_str,
    string_list,
)
from rheostat.flags.model import (
    Condition,
    Flag,
    FlagType,
    Prerequisite,
    Rule,
    Segment,
    Split,
    Target,
)
from rheostat.flags.overrides import Rollout
from rheostat.flags.prerequisites import check_prerequisites

__all__ = ["compile_document", "dump_flag", "parse_document", "parse_flag"]

DOCUMENT_VERSION = 1
_DOCUMENT_FIELDS = {"version", "flags", "segments", "format"}
_FLAG_FIELDS = {
    "description", "enabled", "type", "variants", "default", "salt", "hash_version",
    "prerequisites", "targets", "rules", "version",
}  # fmt: skip
_BOOL_VARIANTS: Mapping[str, Any] = {"on": True, "off": False}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_TYPE_CHECKS: dict[FlagType, Callable[[Any], bool]] = {
    FlagType.BOOL: lambda value: isinstance(value, bool),
    FlagType.STRING: lambda value: isinstance(value, str),
    FlagType.NUMBER: _is_number,
    FlagType.JSON: lambda value: True,
}


def compile_document(
    document: Mapping[str, Any], overrides: Mapping[str, str | Rollout | None] | None = None
) -> tuple[dict[str, CompiledFlag], dict[str, Any]]:
    """Validate ``document``; return the compiled flags and the canonical document.

    ``overrides`` forces flags (see ``compile_flags``). Malformed input that slips past a field
    check (an unhashable or astronomically large value) is still refused as InvalidDefinition.
    """
    try:
        flags, segments = parse_document(document)
    except (TypeError, ValueError, OverflowError, RecursionError) as error:
        if isinstance(error, InvalidDefinition):
            raise
        raise InvalidDefinition("", f"malformed document: {error}") from error
    return compile_flags(flags, segments, overrides), dump_document(flags, segments)


def parse_document(document: Mapping[str, Any]) -> tuple[dict[str, Flag], dict[str, Segment]]:
    """Validate a whole native document into flags and segments, keyed by name."""
    check_fields(require_mapping(document, "document"), _DOCUMENT_FIELDS, "")
    version = document.get("version", DOCUMENT_VERSION)
    if version != DOCUMENT_VERSION:
        raise InvalidDefinition("version", f"unsupported document version {version!r}; use 1")
    raw_segments = require_mapping(_or_empty(document.get("segments"), {}), "segments")
    segments = {
        _name(name, "segments"): _parse_segment(name, body, f"segments.{name}")
        for name, body in raw_segments.items()
    }
    raw_flags = require_mapping(_or_empty(document.get("flags"), {}), "flags")
    flags = {
        _name(key, "flags"): parse_flag(key, body, segments, f"flags.{key}")
        for key, body in raw_flags.items()
    }
    check_prerequisites(flags)
    return flags, segments


def parse_flag(key: str, body: Any, segments: Mapping[str, Segment], path: str) -> Flag:
    """Validate one flag definition."""
    body = require_mapping(body, path)
    check_fields(body, _FLAG_FIELDS, path)
    variants = _parse_variants(body, path)
    flag_type = _parse_type(body, variants, path)
    default = _parse_default(body, variants, path)
    return Flag(
        key=key,
        type=flag_type,
        variants=variants,
        default=default,
        enabled=optional_bool(body, "enabled", path, default=True),
        salt=optional_str(body, "salt", path),
        hash_version=_parse_hash_version(body.get("hash_version", 1), f"{path}.hash_version"),
        description=optional_str(body, "description", path),
        prerequisites=_parse_prerequisites(_or_empty(body.get("prerequisites"), []), path),
        targets=_parse_targets(_or_empty(body.get("targets"), []), variants, path),
        rules=_parse_rules(_or_empty(body.get("rules"), []), variants, segments, path),
        version=_parse_version(body.get("version"), f"{path}.version"),
    )


def _or_empty(value: Any, empty: Any) -> Any:
    """Treat an absent or null field as empty, but keep a wrong type for the validator to see."""
    return empty if value is None else value


def _name(name: Any, path: str) -> str:
    if not isinstance(name, str) or not name.strip() or any(ch.isspace() for ch in name):
        raise InvalidDefinition(path, f"{name!r} is not a valid name (non-empty, no spaces)")
    return name


def _parse_variants(body: Mapping[str, Any], path: str) -> dict[str, Any]:
    raw = body.get("variants")
    if raw is None:
        return dict(_BOOL_VARIANTS)
    variants = require_mapping(raw, f"{path}.variants")
    if not variants:
        raise InvalidDefinition(f"{path}.variants", "a flag needs at least one variant")
    for name, value in variants.items():
        _name(name, f"{path}.variants")
        _require_json(value, f"{path}.variants.{name}")
    return copy.deepcopy(dict(variants))  # the set must not share payloads with its input


def _require_json(value: Any, path: str) -> None:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise InvalidDefinition(path, f"a variant value must be JSON data ({error})") from None


def _parse_type(body: Mapping[str, Any], variants: Mapping[str, Any], path: str) -> FlagType:
    raw = body.get("type")
    if raw is None:
        return _infer_type(variants.values())
    try:
        flag_type = FlagType(raw)
    except ValueError:
        known = ", ".join(t.value for t in FlagType)
        raise InvalidDefinition(f"{path}.type", f"unknown type {raw!r} (one of {known})") from None
    for name, value in variants.items():
        if not _TYPE_CHECKS[flag_type](value):
            raise InvalidDefinition(
                f"{path}.variants.{name}", f"value {value!r} is not of the flag's type {raw}"
            )
    return flag_type


def _infer_type(values: Any) -> FlagType:
    values = list(values)
    for flag_type in (FlagType.BOOL, FlagType.STRING, FlagType.NUMBER):
        if all(_TYPE_CHECKS[flag_type](value) for value in values):
            return flag_type
    return FlagType.JSON


def _parse_default(body: Mapping[str, Any], variants: Mapping[str, Any], path: str) -> str:
    if "default" not in body:
        if body.get("variants") is None:  # the bool shorthand: on/off, off by default
            return "off"
        raise InvalidDefinition(f"{path}.default", "missing: name the variant served by default")
    return _variant_ref(body["default"], variants, f"{path}.default")


def _variant_ref(name: Any, variants: Mapping[str, Any], path: str) -> str:
    if not isinstance(name, str) or name not in variants:
        known = ", ".join(sorted(variants))
        raise InvalidDefinition(path, f"unknown variant {name!r} (variants: {known})")
    return name


def _parse_hash_version(raw: Any, path: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw not in HASH_VERSIONS:
        raise InvalidDefinition(
            path, f"unknown hash version {raw!r}; known: {sorted(HASH_VERSIONS)}"
        )
    return int(raw)


def _parse_version(raw: Any, path: str) -> int | None:
    if raw is None:
        return None
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
        raise InvalidDefinition(path, f"must be a non-negative integer, got {raw!r}")
    return raw


def _parse_prerequisites(raw: Any, path: str) -> tuple[Prerequisite, ...]:
    items = require_list(raw, f"{path}.prerequisites")
    result = []
    for index, item in enumerate(items):
        where = f"{path}.prerequisites[{index}]"
        item = require_mapping(item, where)
        check_fields(item, {"flag", "variants"}, where)
        variants = string_list(item.get("variants"), f"{where}.variants")
        if not variants:
            raise InvalidDefinition(f"{where}.variants", "name at least one variant")
        result.append(Prerequisite(flag=require_str(item.get("flag"), f"{where}.flag"),
                                   variants=variants))  # fmt: skip
    return tuple(result)


def _parse_targets(raw: Any, variants: Mapping[str, Any], path: str) -> tuple[Target, ...]:
    items = require_list(raw, f"{path}.targets")
    result = []
    for index, item in enumerate(items):
        where = f"{path}.targets[{index}]"
        item = require_mapping(item, where)
        check_fields(item, {"variant", "keys", "groups"}, where)
        result.append(
            Target(
                variant=_variant_ref(item.get("variant"), variants, f"{where}.variant"),
                keys=string_list(_or_empty(item.get("keys"), []), f"{where}.keys"),
                groups=string_list(_or_empty(item.get("groups"), []), f"{where}.groups"),
            )
        )
    return tuple(result)


def _parse_rules(
    raw: Any, variants: Mapping[str, Any], segments: Mapping[str, Segment], path: str
) -> tuple[Rule, ...]:
    items = require_list(raw, f"{path}.rules")
    result = []
    for index, item in enumerate(items):
        where = f"{path}.rules[{index}]"
        item = require_mapping(item, where)
        check_fields(item, {"name", "when", "serve"}, where)
        if "serve" not in item:
            raise InvalidDefinition(f"{where}.serve", "missing: a variant name or a split")
        result.append(
            Rule(
                name=optional_str(item, "name", where),
                conditions=_parse_conditions(
                    _or_empty(item.get("when"), []), segments, f"{where}.when"
                ),
                serve=_parse_serve(item["serve"], variants, f"{where}.serve"),
            )
        )
    return tuple(result)


def _parse_serve(raw: Any, variants: Mapping[str, Any], path: str) -> str | Split:
    if isinstance(raw, str):
        return _variant_ref(raw, variants, path)
    body = require_mapping(raw, path)
    check_fields(body, {"split", "by"}, path)
    weights = require_mapping(body.get("split"), f"{path}.split")
    buckets = tuple(
        (_variant_ref(name, variants, f"{path}.split"), _weight(share, f"{path}.split.{name}"))
        for name, share in weights.items()
    )
    total = sum(count for _, count in buckets)
    if total != BUCKETS:
        raise InvalidDefinition(f"{path}.split", f"weights sum to {total / 1000:g}%, not 100%")
    return Split(weights=buckets, by=require_str(body.get("by", "key"), f"{path}.by"))


def _weight(share: Any, path: str) -> int:
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 100:
        raise InvalidDefinition(path, f"weight must be a percentage in 0..100, got {share!r}")
    buckets = percent_to_buckets(share)
    if abs(buckets - share * 1000) > 1e-6:
        raise InvalidDefinition(path, f"weight {share!r} must have at most 3 decimals")
    return buckets


def _parse_segment(name: str, body: Any, path: str) -> Segment:
    body = require_mapping(body, path)
    check_fields(body, {"conditions", "description"}, path)
    return Segment(
        name=name,
        conditions=_parse_conditions(
            _or_empty(body.get("conditions"), []), None, f"{path}.conditions"
        ),
        description=optional_str(body, "description", path),
    )


def _parse_conditions(
    raw: Any, segments: Mapping[str, Segment] | None, path: str
) -> tuple[Condition, ...]:
    items = require_list(raw, path)
    return tuple(
        parse_condition(item, segments, f"{path}[{index}]") for index, item in enumerate(items)
    )


def dump_document(flags: Mapping[str, Flag], segments: Mapping[str, Segment]) -> dict[str, Any]:
    """Return the canonical native document for validated flags and segments."""
    return {
        "version": DOCUMENT_VERSION,
        "segments": {name: dump_segment(segment) for name, segment in segments.items()},
        "flags": {key: dump_flag(flag) for key, flag in flags.items()},
    }


def dump_flag(flag: Flag) -> dict[str, Any]:
    """Return the canonical definition of one flag."""
    return dump_flag_definition(flag)
