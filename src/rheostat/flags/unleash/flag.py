"""``UnleashFlag``: one imported feature, answering as Unleash's engine would.

``is_enabled`` is Unleash's ``isEnabled``: the feature is switched on, its dependencies hold
and one strategy matches. ``variant`` is ``getVariant``: the first matching strategy that
carries variants chooses among them (empty: the feature's variants), otherwise the feature's
variants; a feature that is off, or has no variant to serve, answers ``disabled``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rheostat.flags.model import Context, ErrorCode, Evaluation, Reason, Variant
from rheostat.flags.unleash.constraints import Predicate
from rheostat.flags.unleash.variants import MISMATCH, Picked, VariantOption, VariantSet

__all__ = ["Dependency", "Strategy", "Targeting", "UnleashFlag"]

_OFF = Variant(name="disabled", enabled=False, feature_enabled=False)
_ON_WITHOUT_VARIANT = Variant(name="disabled", enabled=False, feature_enabled=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class Strategy:
    """One compiled strategy and, if it carries a variant list, the variants it serves."""

    matches: Predicate
    carries_variants: bool = False  # a strategy with a variant list decides the variant
    variants: VariantSet | None = None  # None with carries_variants: use the feature's


@dataclass(frozen=True, slots=True, kw_only=True)
class Targeting:
    """A feature's own switch, strategies and variants (without its dependencies)."""

    name: str
    enabled: bool
    matches: Predicate  # any strategy matches (or there are none)
    strategies: tuple[Strategy, ...] = ()
    variants: VariantSet | None = None

    @property
    def has_variants(self) -> bool:
        """True when some context can be served a named variant."""
        carried = any(strategy.variants is not None for strategy in self.strategies)
        return self.variants is not None or carried

    def is_on(self, context: Context) -> bool:
        """Return whether the feature is on, ignoring dependencies."""
        return self.enabled and self.matches(context)

    def select(self, context: Context) -> tuple[bool, VariantSet | None]:
        """Return whether a strategy matches and the variants that then decide, in one pass.

        Each strategy is tested at most once: the first matching strategy that carries
        variants decides; if none does, the feature's variants do.
        """
        if not self.strategies:
            return True, self.variants
        matched = False
        for strategy in self.strategies:
            if (strategy.carries_variants or not matched) and strategy.matches(context):
                if strategy.carries_variants:
                    return True, self._carried(strategy)
                matched = True
        return matched, self.variants

    def pick(self, context: Context) -> Picked | None:
        """Return the variant Unleash would serve if the feature is on, and if by override."""
        chosen = self.variants
        for strategy in self.strategies:
            if strategy.carries_variants and strategy.matches(context):
                chosen = self._carried(strategy)
                break
        return None if chosen is None else chosen.pick(context)

    def _carried(self, strategy: Strategy) -> VariantSet | None:
        return self.variants if strategy.variants is None else strategy.variants


@dataclass(frozen=True, slots=True, kw_only=True)
class Dependency:
    """The feature needs ``parent`` to be on (or off) and, optionally, to serve a variant.

    ``parent`` is None when Unleash would never satisfy the dependency: the parent is missing
    or has dependencies of its own (Unleash supports one level only).
    """

    parent: Targeting | None
    expect_enabled: bool = True
    variants: frozenset[str] = frozenset()  # empty: any variant

    def is_satisfied(self, context: Context) -> bool:
        """Return whether the parent is in the expected state for ``context``."""
        parent = self.parent
        if parent is None:
            return False
        if self.variants:
            picked = parent.pick(context)
            if picked is not None and picked[0].name not in self.variants:
                return False
        return parent.is_on(context) == self.expect_enabled


@dataclass(frozen=True, slots=True, kw_only=True)
class UnleashFlag:
    """An imported feature; satisfies ``rheostat.flags.compiled.CompiledFlag``."""

    key: str
    targeting: Targeting
    dependencies: tuple[Dependency, ...] = ()
    version: int | None = None
    has_variants: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "has_variants", self.targeting.has_variants)

    def is_enabled(self, context: Context) -> bool:
        """Unleash's ``isEnabled``."""
        return self._switched_off(context) is None and self.targeting.matches(context)

    def variant(self, context: Context) -> Variant:
        """Unleash's ``getVariant``."""
        off_reason, variants = self._resolve(context)
        if off_reason is not None:
            return _OFF
        picked = None if variants is None else variants.pick(context)
        return _ON_WITHOUT_VARIANT if picked is None else picked[0].served

    def evaluate(self, context: Context, default: Any) -> Evaluation:
        """Evaluate as a typed flag: the variant's value, or on/off when it has none."""
        off_reason, variants = self._resolve(context)
        if not self.has_variants:
            return self._switch(off_reason, default)
        if off_reason is not None:
            return Evaluation(default, "disabled", off_reason, None, self.version)
        picked = None if variants is None else variants.pick(context)
        if picked is None:
            return Evaluation(default, "disabled", Reason.TARGETING_MATCH, None, self.version)
        return self._served(*picked, default=default)

    def _resolve(self, context: Context) -> tuple[Reason | None, VariantSet | None]:
        """Why the feature is off (None when on) and, when on, the variants that decide."""
        off_reason = self._switched_off(context)
        if off_reason is not None:
            return off_reason, None
        matched, variants = self.targeting.select(context)
        return (None, variants) if matched else (Reason.DEFAULT, None)

    def _switched_off(self, context: Context) -> Reason | None:
        """Why the switch or a dependency turns the feature off; None if neither does."""
        if not self.targeting.enabled:
            return Reason.DISABLED
        for dependency in self.dependencies:
            if not dependency.is_satisfied(context):
                return Reason.PREREQUISITE_FAILED
        return None

    def _served(self, option: VariantOption, by_override: bool, *, default: Any) -> Evaluation:
        value = option.value_like(default)
        if value is MISMATCH:
            return self._mismatch(default)
        reason = Reason.TARGETING_MATCH if by_override else Reason.SPLIT
        return Evaluation(value, option.name, reason, None, self.version)

    def _switch(self, off_reason: Reason | None, default: Any) -> Evaluation:
        if default is not None and not isinstance(default, bool):
            return self._mismatch(default)
        if off_reason is None:
            return Evaluation(True, "enabled", Reason.TARGETING_MATCH, None, self.version)
        return Evaluation(False, "disabled", off_reason, None, self.version)

    def _mismatch(self, default: Any) -> Evaluation:
        return Evaluation(default, None, Reason.ERROR, ErrorCode.TYPE_MISMATCH, self.version)
