"""Unleash variants: overrides first, then a weighted pick by ``normalizedHash``.

A variant list is bucketed by the stickiness of its first variant (feature variants) or of its
strategy (strategy variants), hashed with seed 86028157 into ``1..total weight``; the first
variant whose running weight reaches the bucket is served, as in every Unleash SDK. A context
without the stickiness field gets the random stand-in (see ``fields``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, Final

from rheostat.errors import InvalidDefinition
from rheostat.flags.model import Context, Variant
from rheostat.flags.unleash.fields import FieldReader, random_stand_in, read_field, seed_reader
from rheostat.flags.unleash.hashing import VARIANT_SEED, normalized_hash
from rheostat.flags.unleash.reading import (
    Diagnostics,
    optional_list,
    optional_string,
    require_int,
    require_list,
    require_mapping,
    require_string,
    string_items,
)

__all__ = ["MISMATCH", "Picked", "VariantOption", "VariantSet", "compile_variants"]

MISMATCH: Final = object()
"""Returned by ``VariantOption.value_like`` when the value cannot take the default's type."""

_INTEGER = re.compile(r"[+-]?[0-9]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class VariantOption:
    """One variant, with its answer precomputed."""

    name: str
    weight: int
    served: Variant
    text: str  # the payload's value, or the name when there is no payload
    number: int | float | None  # the value of a "number" payload
    json_kind: type | None  # dict or list for a valid "json" payload

    def value_like(self, default: Any) -> Any:
        """Return the variant's value in the type of ``default``, or ``MISMATCH``."""
        if default is None or isinstance(default, str):
            return self.text
        if isinstance(default, bool):
            return MISMATCH
        if isinstance(default, int | float):
            return MISMATCH if self.number is None else self.number
        if self.json_kind is not None and isinstance(default, self.json_kind):
            return json.loads(self.text)
        return MISMATCH


Picked = tuple[VariantOption, bool]
"""The variant served, and whether an override (rather than the split) chose it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class VariantSet:
    """A non-empty variant list, ready to pick from."""

    ranges: tuple[tuple[int, Picked], ...]  # (running weight, answer), in document order
    total_weight: int
    group_id: str
    seed: FieldReader
    overrides: tuple[tuple[FieldReader, frozenset[str], Picked], ...]

    def pick(self, context: Context) -> Picked | None:
        """Return the variant served and whether an override chose it; None if none is."""
        for read, values, picked in self.overrides:
            if read(context) in values:
                return picked
        total = self.total_weight
        if total <= 0:
            return None
        seed = self.seed(context)
        if seed is None:
            seed = random_stand_in(context)
        bucket = normalized_hash(self.group_id, seed, total, VARIANT_SEED)
        # The bucket is in 1..total and the last running weight is the total, so the loop
        # always breaks (at the last range at the latest).
        for threshold, picked in self.ranges:  # noqa: B007  # picked is the answer after the loop
            if threshold >= bucket:
                break
        return picked


def compile_variants(
    raw: Any,
    path: str,
    *,
    group_id: str,
    stickiness: str | None,
    diagnostics: Diagnostics,
) -> VariantSet | None:
    """Compile the variant list at ``path``; None when it is missing or empty.

    ``stickiness`` is the strategy's for strategy variants; for feature variants pass None
    and the first variant's own stickiness is used. Strategy variants have no overrides.
    """
    items = [] if raw is None else require_list(raw, path)
    if not items:
        return None
    variants = [require_mapping(item, f"{path}[{index}]") for index, item in enumerate(items)]
    options = tuple(_option(item, f"{path}[{index}]") for index, item in enumerate(variants))
    thresholds = tuple(accumulate(option.weight for option in options))
    if thresholds[-1] <= 0:
        diagnostics.warn(path, "all weights are 0, so no variant is ever served")
    feature_level = stickiness is None
    if feature_level:
        stickiness = optional_string(variants[0], "stickiness", f"{path}[0]")
    overrides = _overrides(variants, options, path) if feature_level else ()
    return VariantSet(
        ranges=tuple(
            (threshold, (option, False))
            for threshold, option in zip(thresholds, options, strict=True)
        ),
        total_weight=thresholds[-1],
        group_id=group_id,
        seed=seed_reader(stickiness),
        overrides=overrides,
    )


def _option(raw: Mapping[str, Any], path: str) -> VariantOption:
    name = require_string(raw, "name", path)
    weight = require_int(raw, "weight", path)
    if weight < 0:
        raise InvalidDefinition(f"{path}.weight", f"a weight cannot be negative, got {weight}")
    payload = _payload(raw.get("payload"), f"{path}.payload")
    kind, text = (None, name) if payload is None else (payload["type"], payload["value"])
    return VariantOption(
        name=name,
        weight=weight,
        served=Variant(name=name, enabled=True, payload=payload, feature_enabled=True),
        text=text,
        number=_number(text) if kind == "number" else None,
        json_kind=_json_kind(text) if kind == "json" else None,
    )


def _payload(raw: Any, path: str) -> dict[str, str] | None:
    if raw is None:
        return None
    payload = require_mapping(raw, path)
    kind, value = require_string(payload, "type", path), require_string(payload, "value", path)
    return {"type": kind, "value": value}


def _number(text: str) -> int | float | None:
    if _INTEGER.fullmatch(text):
        return int(text)
    try:
        return float(text)
    except ValueError:
        return None


def _json_kind(text: str) -> type | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return type(value) if isinstance(value, dict | list) else None


def _overrides(
    variants: list[Mapping[str, Any]], options: tuple[VariantOption, ...], path: str
) -> tuple[tuple[FieldReader, frozenset[str], Picked], ...]:
    found = []
    for index, (raw, option) in enumerate(zip(variants, options, strict=True)):
        where = f"{path}[{index}]"
        for number, item in enumerate(optional_list(raw, "overrides", where)):
            override = require_mapping(item, f"{where}.overrides[{number}]")
            name = require_string(override, "contextName", f"{where}.overrides[{number}]")
            values = string_items(override, "values", f"{where}.overrides[{number}]")
            found.append((read_field(name), frozenset(values), (option, True)))
    return tuple(found)
