"""Compilation of validated native flags into fast, immutable evaluators.

Everything that does not depend on the context is computed here, once: each possible answer
(variant x reason) is built in advance, so evaluation allocates nothing but what it must.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping
from typing import Any

from rheostat.flags.bucketing import BUCKETS, bucketer, percent_to_buckets
from rheostat.flags.compiled import CompiledFlag
from rheostat.flags.model import (
    Context,
    ErrorCode,
    Evaluation,
    Flag,
    FlagType,
    Reason,
    Segment,
    Split,
    Variant,
)
from rheostat.flags.overrides import Rollout
from rheostat.flags.prerequisites import prerequisite_order
from rheostat.flags.rules import Predicate, compile_conditions, compile_segment

__all__ = ["ConstantFlag", "NativeFlag", "Outcome", "compile_flags"]

_JSON_TYPES = (dict, list, str, int, float, bool)
_ACCEPTED_DEFAULTS: dict[FlagType, tuple[type, ...]] = {
    FlagType.BOOL: (bool,),
    FlagType.STRING: (str,),
    FlagType.NUMBER: (int, float),
    FlagType.JSON: _JSON_TYPES,
}
# Exact classes checked first (one set lookup); subclasses such as StrEnum take the slow path.
_EXACT_TYPES: dict[FlagType, frozenset[type]] = {
    flag_type: frozenset(types) - ({bool} if flag_type is FlagType.NUMBER else set())
    for flag_type, types in _ACCEPTED_DEFAULTS.items()
}
_OFF_REASONS = frozenset({Reason.DISABLED, Reason.PREREQUISITE_FAILED})


def accepts_default(flag_type: FlagType, default: Any) -> bool:
    """Whether ``default`` has the flag's type (a bool is not a number)."""
    if flag_type is FlagType.NUMBER and isinstance(default, bool):
        return False
    return isinstance(default, _ACCEPTED_DEFAULTS[flag_type])


class Outcome:
    """One possible answer of a flag, built once: the evaluation, the variant and ``enabled``."""

    __slots__ = ("enabled", "evaluation", "is_on", "name", "variant")

    def __init__(self, flag: Flag, name: str, reason: Reason, *, is_on: bool | None = None) -> None:
        value = flag.variants[name]
        self.name = name
        self.is_on = reason not in _OFF_REASONS if is_on is None else is_on
        self.enabled: bool = value if flag.type is FlagType.BOOL else self.is_on
        self.evaluation = Evaluation(value, name, reason, None, flag.version)
        self.variant = Variant(name=name, enabled=self.enabled, payload=value)


class _CompiledSplit:
    __slots__ = ("bucket_of", "by", "ends", "outcomes")

    def __init__(self, flag: Flag, split: Split, outcomes: Mapping[str, Outcome]) -> None:
        # Built once: the flag's salt under the flag's own hash version.
        self.bucket_of = bucketer(flag.bucketing_salt, version=flag.hash_version)
        self.by = split.by
        ends, chosen, total = [], [], 0
        for name, weight in split.weights:
            total += weight
            ends.append(total)
            chosen.append(outcomes[name])
        self.ends = tuple(ends)
        self.outcomes = tuple(chosen)


class ConstantFlag:
    """A flag that answers the same to everyone: killed, or without any targeting."""

    __slots__ = ("_exact_types", "_outcome", "flag")

    def __init__(self, flag: Flag, outcome: Outcome) -> None:
        self.flag = flag
        self._outcome = outcome
        self._exact_types = _EXACT_TYPES[flag.type]

    @property
    def key(self) -> str:
        return self.flag.key

    @property
    def version(self) -> int | None:
        return self.flag.version

    @property
    def constant_enabled(self) -> bool:
        """``is_enabled`` for every context (lets ``FlagSet`` skip the call)."""
        return self._outcome.enabled

    def decide(self, context: Context) -> Outcome:
        """Return the one outcome."""
        return self._outcome

    def evaluate(self, context: Context, default: Any) -> Evaluation:
        if (
            default is not None
            and default.__class__ not in self._exact_types
            and not accepts_default(self.flag.type, default)
        ):
            return _type_mismatch(default, self.flag)
        return self._outcome.evaluation

    def is_enabled(self, context: Context) -> bool:
        return self._outcome.enabled

    def variant(self, context: Context) -> Variant:
        return self._outcome.variant


class NativeFlag:
    """A compiled native flag with targeting (satisfies ``CompiledFlag``)."""

    __slots__ = (
        "_default_outcome",
        "_exact_types",
        "_group_targets",
        "_key_targets",
        "_prerequisite_failed",
        "_prerequisites",
        "_rules",
        "decide",
        "flag",
    )

    def __init__(
        self,
        flag: Flag,
        rules: tuple[tuple[tuple[Predicate, ...], Outcome | None, _CompiledSplit | None], ...],
        prerequisites: tuple[tuple[DecidingFlag, frozenset[str]], ...],
    ) -> None:
        self.flag = flag
        self._exact_types = _EXACT_TYPES[flag.type]
        self._prerequisite_failed = Outcome(flag, flag.default, Reason.PREREQUISITE_FAILED)
        self._default_outcome = Outcome(flag, flag.default, Reason.DEFAULT)
        self._prerequisites = prerequisites
        self._rules = rules
        self._key_targets, self._group_targets = _compile_targets(flag)
        # Pick the walk once: most flags have rules only, and skip the target checks.
        has_targets = bool(prerequisites or self._key_targets or self._group_targets)
        self.decide: Callable[[Context], Outcome] = (
            self._decide_with_targets if has_targets else self._decide_by_rules
        )

    @property
    def key(self) -> str:
        return self.flag.key

    @property
    def version(self) -> int | None:
        return self.flag.version

    def _decide_with_targets(self, context: Context) -> Outcome:
        if self._prerequisites and not self._prerequisites_hold(context):
            return self._prerequisite_failed
        target = self._key_targets.get(context.key)
        if target is None and self._group_targets:
            target = _group_target(self._group_targets, context)
        return target or self._decide_by_rules(context)

    def _decide_by_rules(self, context: Context) -> Outcome:
        for predicates, fixed, maybe_split in self._rules:
            for predicate in predicates:
                if not predicate(context):
                    break
            else:
                if fixed is not None:
                    return fixed
                # The split is chosen inline: one Python call fewer on the engine's hottest path.
                split: _CompiledSplit = maybe_split  # type: ignore[assignment]  # no fixed: split
                value = context.key if split.by == "key" else context.attributes.get(split.by)
                if value is not None and value != "":  # else nothing to bucket on: next rule
                    number = split.bucket_of(str(value))
                    return split.outcomes[bisect_right(split.ends, number)]
        return self._default_outcome

    def evaluate(self, context: Context, default: Any) -> Evaluation:
        if (
            default is not None
            and default.__class__ not in self._exact_types
            and not accepts_default(self.flag.type, default)
        ):
            return _type_mismatch(default, self.flag)
        return self.decide(context).evaluation

    def is_enabled(self, context: Context) -> bool:
        return self.decide(context).enabled

    def variant(self, context: Context) -> Variant:
        return self.decide(context).variant

    def _prerequisites_hold(self, context: Context) -> bool:
        for parent, variants in self._prerequisites:
            outcome = parent.decide(context)
            if not outcome.is_on or outcome.name not in variants:
                return False
        return True


DecidingFlag = ConstantFlag | NativeFlag


def _type_mismatch(default: Any, flag: Flag) -> Evaluation:
    return Evaluation(default, None, Reason.ERROR, ErrorCode.TYPE_MISMATCH, flag.version)


def _group_target(group_targets: tuple[tuple[frozenset[str], Outcome], ...],
                  context: Context) -> Outcome | None:  # fmt: skip
    groups = context.attributes.get("groups")
    if isinstance(groups, str):
        members: Any = (groups,)
    elif isinstance(groups, list | tuple | set | frozenset):
        members = groups
    else:
        return None  # absent, or not a list of group names
    for names, outcome in group_targets:
        if any(isinstance(group, str) and group in names for group in members):
            return outcome
    return None


def _compile_targets(
    flag: Flag,
) -> tuple[dict[str, Outcome], tuple[tuple[frozenset[str], Outcome], ...]]:
    keys: dict[str, Outcome] = {}
    groups: list[tuple[frozenset[str], Outcome]] = []
    for target in flag.targets:
        outcome = Outcome(flag, target.variant, Reason.TARGETING_MATCH)
        for key in target.keys:
            keys.setdefault(key, outcome)  # the first target naming a key wins
        if target.groups:
            groups.append((frozenset(target.groups), outcome))
    return keys, tuple(groups)


def compile_flags(
    flags: Mapping[str, Flag],
    segments: Mapping[str, Segment],
    overrides: Mapping[str, str | Rollout | None] | None = None,
) -> dict[str, CompiledFlag]:
    """Compile validated flags (prerequisites first) into evaluators keyed by flag key.

    ``overrides`` maps flag keys to a forced variant, a ``Rollout``, or None for a kill (as
    ``overrides.forced_variants`` checked them); overridden flags answer with reason
    ``OVERRIDE``, and flags that depend on them see the forced answer.
    """
    compiled_segments: dict[str, tuple[Predicate, ...]] = {}
    for name, segment in segments.items():
        compiled_segments[name] = compile_segment(segment, compiled_segments)
    compiled: dict[str, DecidingFlag] = {}
    for key in prerequisite_order(flags):
        if overrides and key in overrides:
            compiled[key] = _overridden(flags[key], overrides[key])
        else:
            compiled[key] = _compile_flag(flags[key], compiled_segments, compiled)
    return {key: compiled[key] for key in flags}


def _compile_flag(flag: Flag, segments: Mapping[str, tuple[Predicate, ...]],
                  compiled: Mapping[str, DecidingFlag]) -> DecidingFlag:  # fmt: skip
    rules = tuple(
        (compile_conditions(rule.conditions, segments), *_compile_serve(flag, rule.serve))
        for rule in flag.rules
    )
    prerequisites = tuple((compiled[p.flag], frozenset(p.variants)) for p in flag.prerequisites)
    if not flag.enabled:
        return ConstantFlag(flag, Outcome(flag, flag.default, Reason.DISABLED))
    if flag.is_static:
        return ConstantFlag(flag, Outcome(flag, flag.default, Reason.STATIC))
    return NativeFlag(flag, rules, prerequisites)


def _compile_serve(flag: Flag, serve: str | Split) -> tuple[Outcome | None, _CompiledSplit | None]:
    if isinstance(serve, str):
        return Outcome(flag, serve, Reason.TARGETING_MATCH), None
    split_outcomes = {name: Outcome(flag, name, Reason.SPLIT) for name in flag.variants}
    return None, _CompiledSplit(flag, serve, split_outcomes)


def _overridden(flag: Flag, forced: str | Rollout | None) -> DecidingFlag:
    if isinstance(forced, Rollout):
        return _rolled_out(flag, forced)
    # A kill serves the default variant and counts as off for dependents; a forced variant is on.
    name = flag.default if forced is None else forced
    return ConstantFlag(flag, Outcome(flag, name, Reason.OVERRIDE, is_on=forced is not None))


def _rolled_out(flag: Flag, rollout: Rollout) -> NativeFlag:
    # The server's rollout split (on first, by key, the flag's salt and hash version) in place
    # of every rule, answering OVERRIDE; a context without a key matches the second rule: off.
    on_share = percent_to_buckets(rollout.percent)
    split = Split(weights=((rollout.on, on_share), (rollout.off, BUCKETS - on_share)))
    outcomes = {name: Outcome(flag, name, Reason.OVERRIDE) for name in (rollout.on, rollout.off)}
    rules = (((), None, _CompiledSplit(flag, split, outcomes)), ((), outcomes[rollout.off], None))
    return NativeFlag(flag, rules, ())
