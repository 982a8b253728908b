"""Fixed-horizon A/B comparisons: Welch's t-test for means, the unpooled z-test for proportions.

Both report the difference ``m_T - m_C`` (or the relative lift by the delta method) with an
interval and a p-value from the same standard error, so "significant" and "the interval
excludes 0" always agree. These are final only at the planned sample; interim looks use
``rheostat.stats.sequential.compare_sequential``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import cast

from scipy import stats as distributions

from rheostat.stats._difference import Difference, difference_of, lift_of
from rheostat.stats._validation import (
    check_alpha,
    check_min_events,
    check_min_n,
    parse_alternative,
)
from rheostat.stats.results import Alternative, Caveat, Comparison, Significance
from rheostat.stats.sufficient import ProportionStats, SampleStats

__all__ = ["compare_means", "compare_proportions", "p_value", "significance_of"]


@dataclass(frozen=True, slots=True)
class _Reference:
    """The statistic's reference distribution: upper tail and its inverse."""

    sf: Callable[[float], float]
    isf: Callable[[float], float]


def _student(dof: float) -> _Reference:
    return _Reference(
        sf=lambda x: float(distributions.t.sf(x, dof)),
        isf=lambda q: float(distributions.t.isf(q, dof)),
    )


_NORMAL = _Reference(
    sf=lambda x: float(distributions.norm.sf(x)),
    isf=lambda q: float(distributions.norm.isf(q)),
)


def compare_means(
    control: SampleStats,
    treatment: SampleStats,
    *,
    relative: bool = False,
    alpha: float = 0.05,
    alternative: Alternative | str = Alternative.TWO_SIDED,
    min_n: int = 100,
) -> Comparison:
    """Welch's t-test of ``m_T - m_C``, or of the lift ``(m_T - m_C) / |m_C|``.

    Args:
        control: the control arm.
        treatment: the treatment arm.
        relative: report the lift (delta-method interval, t quantile) instead of the difference.
        alpha: significance level, in (0, 0.5).
        alternative: ``"two-sided"``, ``"greater"`` (mu_T > mu_C) or ``"less"``.
        min_n: fewest units per arm before any verdict (>= 2).

    Returns:
        The comparison; ``inconclusive`` with a reason when the data do not allow one.

    Raises:
        ValidationError: a bad ``alpha``, ``alternative`` or ``min_n``.
    """
    settings = _Settings.of(relative=relative, alpha=alpha, alternative=alternative)
    difference = difference_of(control, treatment, min_n=check_min_n(min_n), min_events=0)
    if isinstance(difference, Caveat):
        return settings.inconclusive(difference)
    # Means always carry Welch's degrees of freedom.
    return _compare(difference, _student(cast(float, difference.dof)), settings)


def compare_proportions(  # noqa: PLR0913  # keyword arguments named by the statistics issue
    control: ProportionStats,
    treatment: ProportionStats,
    *,
    relative: bool = False,
    alpha: float = 0.05,
    alternative: Alternative | str = Alternative.TWO_SIDED,
    min_n: int = 100,
    min_events: int = 10,
) -> Comparison:
    """Unpooled two-proportion z-test of ``p_T - p_C`` (or the lift); pooled p as auxiliary.

    Args:
        control: the control arm.
        treatment: the treatment arm.
        relative: report the lift (delta-method interval, normal quantile).
        alpha: significance level, in (0, 0.5).
        alternative: ``"two-sided"``, ``"greater"`` (p_T > p_C) or ``"less"``.
        min_n: fewest units per arm before any verdict (>= 2).
        min_events: fewest events, and fewest non-events, over both arms.

    Returns:
        The comparison, with ``pooled_p_value``; ``inconclusive`` with a reason when the data
        do not allow one.

    Raises:
        ValidationError: a bad ``alpha``, ``alternative``, ``min_n`` or ``min_events``.
    """
    settings = _Settings.of(relative=relative, alpha=alpha, alternative=alternative)
    difference = difference_of(
        control, treatment, min_n=check_min_n(min_n), min_events=check_min_events(min_events)
    )
    if isinstance(difference, Caveat):
        return settings.inconclusive(difference)
    result = _compare(difference, _NORMAL, settings)
    pooled_p = p_value(_pooled_statistic(control, treatment), settings.alternative, _NORMAL.sf)
    return replace(result, pooled_p_value=pooled_p)


def p_value(statistic: float, alternative: Alternative, sf: Callable[[float], float]) -> float:
    """The p-value of ``statistic`` under a symmetric reference with upper tail ``sf``."""
    if alternative is Alternative.GREATER:
        return sf(statistic)
    if alternative is Alternative.LESS:
        return sf(-statistic)
    return min(1.0, 2.0 * sf(abs(statistic)))


def significance_of(lower: float, upper: float) -> Significance:
    """Significant exactly when the interval ``[lower, upper]`` excludes 0."""
    return Significance.SIGNIFICANT if lower > 0 or upper < 0 else Significance.NOT_SIGNIFICANT


@dataclass(frozen=True, slots=True, kw_only=True)
class _Settings:
    relative: bool
    alpha: float
    alternative: Alternative

    @classmethod
    def of(cls, *, relative: bool, alpha: float, alternative: Alternative | str) -> _Settings:
        return cls(
            relative=relative,
            alpha=check_alpha(alpha),
            alternative=parse_alternative(alternative),
        )

    def inconclusive(self, reason: Caveat) -> Comparison:
        return Comparison.inconclusive(
            reason, relative=self.relative, alternative=self.alternative, alpha=self.alpha
        )

    def interval(self, estimate: float, se: float, quantile: float) -> tuple[float, float]:
        half_width = quantile * se
        lower = -math.inf if self.alternative is Alternative.LESS else estimate - half_width
        upper = math.inf if self.alternative is Alternative.GREATER else estimate + half_width
        return lower, upper


def _compare(difference: Difference, reference: _Reference, settings: _Settings) -> Comparison:
    delta, se = difference.delta, difference.se
    tail = (
        settings.alpha if settings.alternative is not Alternative.TWO_SIDED else settings.alpha / 2
    )
    quantile = reference.isf(tail)
    statistic = delta / se
    estimate, estimate_se, reason = delta, se, None
    if settings.relative:
        lift = lift_of(difference, quantile=quantile)
        if isinstance(lift, Caveat):
            reason = lift  # the absolute result is returned, marked relative=False
        else:
            estimate, estimate_se = lift.estimate, lift.se
    lower, upper = settings.interval(estimate, estimate_se, quantile)
    return Comparison(
        estimate=estimate,
        se=estimate_se,
        ci_lower=lower,
        ci_upper=upper,
        p_value=p_value(statistic, settings.alternative, reference.sf),
        dof=difference.dof,
        statistic=statistic,
        significance=significance_of(*settings.interval(delta, se, quantile)),
        reason=reason,
        relative=settings.relative and reason is None,
        difference=delta,
        alternative=settings.alternative,
        alpha=settings.alpha,
    )


def _pooled_statistic(control: ProportionStats, treatment: ProportionStats) -> float:
    """The pooled-variance z; its se is > 0, as both arms at 0% (or 100%) is ``zero_variance``."""
    n_c, n_t = int(control.n), int(treatment.n)
    pooled = (int(control.successes) + int(treatment.successes)) / (n_c + n_t)
    se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n_c + 1.0 / n_t))
    return (int(treatment.successes) / n_t - int(control.successes) / n_c) / se
