"""Compiling one Unleash feature: its switch, strategies, variants and dependencies."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rheostat.errors import InvalidDefinition
from rheostat.flags.model import Context
from rheostat.flags.unleash.constraints import Predicate
from rheostat.flags.unleash.flag import Dependency, Strategy, Targeting
from rheostat.flags.unleash.reading import (
    Diagnostics,
    feature_path,
    optional_bool,
    optional_list,
    require_mapping,
    require_string,
    string_items,
)
from rheostat.flags.unleash.strategies import (
    all_of,
    compile_rule,
    compile_segment_references,
    compile_strategy_constraints,
    strategy_source,
)
from rheostat.flags.unleash.variants import compile_variants

__all__ = ["CompiledFeature", "DependencySpec", "compile_feature", "link_dependency"]

Segments = Mapping[int, tuple[Predicate, ...]]


@dataclass(frozen=True, slots=True, kw_only=True)
class DependencySpec:
    """A dependency as written, before the parent is looked up."""

    feature: str
    expect_enabled: bool
    variants: frozenset[str]
    path: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CompiledFeature:
    """A feature's targeting and the dependencies still to link."""

    targeting: Targeting
    dependencies: tuple[DependencySpec, ...]


def compile_feature(
    raw: Any, index: int, segments: Segments, diagnostics: Diagnostics
) -> CompiledFeature:
    """Compile the feature at ``features[index]``."""
    feature = require_mapping(raw, f"features[{index}]")
    name = require_string(feature, "name", f"features[{index}]")
    path = feature_path(name)
    if not isinstance(feature.get("enabled"), bool):
        raise InvalidDefinition(f"{path}.enabled", "expected true or false")
    strategies = [
        _compile_strategy(item, f"{path}.strategies[{number}]", name, segments, diagnostics)
        for number, item in enumerate(optional_list(feature, "strategies", path))
    ]
    variants = compile_variants(
        feature.get("variants"),
        f"{path}.variants",
        group_id=name,
        stickiness=None,  # feature variants follow their first variant's stickiness
        diagnostics=diagnostics,
    )
    targeting = Targeting(
        name=name,
        enabled=feature["enabled"],
        matches=_any_of(tuple(strategy.matches for strategy in strategies)),
        strategies=tuple(strategies),
        variants=variants,
    )
    return CompiledFeature(targeting=targeting, dependencies=_dependencies(feature, path))


def _compile_strategy(
    raw: Any, path: str, feature: str, segments: Segments, diagnostics: Diagnostics
) -> Strategy:
    strategy, source = strategy_source(raw, path, feature)
    rule = compile_rule(source, diagnostics)
    own = compile_strategy_constraints(strategy, path, diagnostics)
    shared = compile_segment_references(strategy, path, segments, diagnostics)
    if shared is None:
        matches: Predicate = _never
    else:
        matches = all_of(((rule,) if rule else ()) + own + shared) or _always
    if strategy.get("variants") is None:
        return Strategy(matches=matches)
    variants = compile_variants(
        strategy["variants"],
        f"{path}.variants",
        group_id=source.group_id,
        stickiness=source.parameter("stickiness", "default"),
        diagnostics=diagnostics,
    )
    return Strategy(matches=matches, carries_variants=True, variants=variants)


def _dependencies(feature: Mapping[str, Any], path: str) -> tuple[DependencySpec, ...]:
    specs = []
    for index, item in enumerate(optional_list(feature, "dependencies", path)):
        where = f"{path}.dependencies[{index}]"
        dependency = require_mapping(item, where)
        specs.append(
            DependencySpec(
                feature=require_string(dependency, "feature", where),
                expect_enabled=optional_bool(dependency, "enabled", where, default=True),
                variants=frozenset(string_items(dependency, "variants", where)),
                path=where,
            )
        )
    return tuple(specs)


def link_dependency(
    spec: DependencySpec, features: Mapping[str, CompiledFeature], diagnostics: Diagnostics
) -> Dependency:
    """Resolve ``spec``'s parent; Unleash never satisfies a missing or nested parent."""
    parent = features.get(spec.feature)
    if parent is None:
        reason = f"feature {spec.feature!r} is not in the document, so this never holds"
        diagnostics.warn(f"{spec.path}.feature", reason)
    elif parent.dependencies:
        reason = f"{spec.feature!r} has dependencies of its own; Unleash allows one level only"
        diagnostics.warn(f"{spec.path}.feature", f"{reason}, so this never holds")
    targeting = None if parent is None or parent.dependencies else parent.targeting
    return Dependency(parent=targeting, expect_enabled=spec.expect_enabled, variants=spec.variants)


def _always(context: Context) -> bool:
    return True


def _never(context: Context) -> bool:
    return False


def _any_of(tests: tuple[Predicate, ...]) -> Predicate:
    if not tests:
        return _always  # a feature without strategies is on for everyone
    if len(tests) == 1:
        return tests[0]

    def matches(context: Context) -> bool:
        return any(test(context) for test in tests)

    return matches
