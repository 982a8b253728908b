"""Always-valid inference: normal-mixture confidence sequences, safe to check at every look.

The guardrail (``sequential_guard``) is one-sided: it asks only whether the treatment made a
metric worse, on cumulative data since the rollout started, and keeps the false-rollback rate
at most ``alpha`` however often it is asked. ``compare_sequential`` is the two-sided form for
A/B dashboards viewed before the planned end. The mixture scale ``r`` (from the planned sample
``n_star``) only tunes where the sequence is tightest; validity holds for any ``n_star``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rheostat.stats._difference import Arms, Difference, difference_of, lift_of
from rheostat.stats._validation import (
    check_alpha,
    check_finite,
    check_min_events,
    check_min_n,
    check_positive,
    check_probability,
    parse_worse,
)
from rheostat.stats.results import (
    Alternative,
    Caveat,
    Comparison,
    GuardStatus,
    GuardVerdict,
    Significance,
    Worse,
)

__all__ = [
    "GuardSettings",
    "always_valid_p_value",
    "assess_guard",
    "compare_sequential",
    "one_sided_boundary",
    "sequential_guard",
    "two_sided_boundary",
]


def _one_sided_scale(n_star: float, alpha: float) -> float:
    log_level = math.log(2.0 * alpha)
    return n_star / (-2.0 * log_level + math.log(1.0 - 2.0 * log_level))


def _two_sided_scale(n_star: float, alpha: float) -> float:
    log_level = math.log(alpha)
    return n_star / (-2.0 * log_level + math.log(1.0 - 2.0 * log_level))


def _c1(n_total: float, alpha: float, scale: float) -> float:
    spread = (n_total + scale) / n_total
    return math.sqrt(
        2.0 * spread * math.log1p(math.sqrt((n_total + scale) / scale) / (2.0 * alpha))
    )


def _c2(n_total: float, alpha: float, scale: float) -> float:
    spread = (n_total + scale) / n_total
    return math.sqrt(spread * math.log((n_total + scale) / (scale * alpha * alpha)))


def _check_n_total(n_total: float) -> float:
    return check_positive(n_total, name="n_total")


def one_sided_boundary(n_total: float, *, alpha: float = 0.05, n_star: float = 10_000) -> float:
    """``c1(N)``: the one-sided sequence's critical value for ``z`` at ``N`` total units.

    ``c1(N) = sqrt(2 (N + r)/N * ln(1 + sqrt((N + r)/r) / (2 alpha)))`` with
    ``r = N* / (-2 ln(2 alpha) + ln(1 - 2 ln(2 alpha)))``. At ``alpha = 0.05`` its minimum is
    2.778, at ``N`` close to ``1.10 N*``.

    Raises:
        ValidationError: ``n_total`` or ``n_star`` not > 0, or ``alpha`` outside (0, 0.5).
    """
    alpha = check_alpha(alpha)
    scale = _one_sided_scale(check_positive(n_star, name="n_star"), alpha)
    return _c1(_check_n_total(n_total), alpha, scale)


def two_sided_boundary(n_total: float, *, alpha: float = 0.05, n_star: float = 10_000) -> float:
    """``c2(N)``: the two-sided sequence's critical value for ``|z|`` at ``N`` total units.

    ``c2(N) = sqrt((N + r2)/N * ln((N + r2) / (r2 alpha**2)))`` with
    ``r2 = N* / (-2 ln alpha + ln(1 - 2 ln alpha))``.

    Raises:
        ValidationError: ``n_total`` or ``n_star`` not > 0, or ``alpha`` outside (0, 0.5).
    """
    alpha = check_alpha(alpha)
    scale = _two_sided_scale(check_positive(n_star, name="n_star"), alpha)
    return _c2(_check_n_total(n_total), alpha, scale)


def always_valid_p_value(
    statistic: float, n_total: float, *, alpha: float = 0.05, n_star: float = 10_000
) -> float:
    """``p_N = min(1, 1/Lambda)``, the mixture likelihood ratio's p-value at this look.

    ``ln Lambda = k/(1 + k) * z**2/2 - ln(1 + k)/2`` with ``k = N / r2``. The always-valid
    p-value is the running minimum of ``p_N`` over looks; ``p_N <= alpha`` exactly when
    ``|z| >= c2(N)``.

    Raises:
        ValidationError: ``statistic`` not finite, ``n_total`` or ``n_star`` not > 0, or
            ``alpha`` outside (0, 0.5).
    """
    statistic = check_finite(statistic, name="statistic")
    scale = _two_sided_scale(check_positive(n_star, name="n_star"), check_alpha(alpha))
    return _p_n(statistic, _check_n_total(n_total) / scale)


def _p_n(statistic: float, k: float) -> float:
    log_ratio = k / (1.0 + k) * statistic * statistic / 2.0 - 0.5 * math.log1p(k)
    return 1.0 if log_ratio <= 0 else math.exp(-log_ratio)


@dataclass(frozen=True, slots=True, kw_only=True)
class GuardSettings:
    """A guardrail's settings, frozen at rollout start and validated when built.

    Attributes:
        worse: ``higher`` (errors, latency) or ``lower`` (conversion) is harmful.
        relative: judge the lift ``(m_T - m_C)/|m_C|`` instead of the difference.
        alpha: this metric's level: the rollout's alpha split by Bonferroni over its guardrails.
        n_star: planned total units (both arms) at the end of the second ramp stage.
        tolerance: harm up to this (absolute, or relative when ``relative``) is accepted.
        min_n: fewest units per arm before any verdict (>= 2).
        min_events: fewest events, and fewest non-events, over both arms (proportions).
        non_inferiority_margin: strict mode; pass only once ``harm + c1 * se`` is below it.

    Raises:
        ValidationError: any setting outside its range.
    """

    worse: Worse = Worse.HIGHER
    relative: bool = False
    alpha: float = 0.05
    n_star: float = 10_000
    tolerance: float = 0.0
    min_n: int = 100
    min_events: int = 10
    non_inferiority_margin: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "worse", parse_worse(self.worse))
        check_alpha(self.alpha)
        check_positive(self.n_star, name="n_star")
        check_finite(self.tolerance, name="tolerance", minimum=0.0)
        check_min_n(self.min_n)
        check_min_events(self.min_events)
        if self.non_inferiority_margin is not None:
            check_finite(self.non_inferiority_margin, name="non_inferiority_margin")

    @property
    def mixture_scale(self) -> float:
        """``r = N* / (-2 ln(2 alpha) + ln(1 - 2 ln(2 alpha)))``, fixed at rollout start."""
        return _one_sided_scale(self.n_star, self.alpha)

    def boundary(self, n_total: float) -> float:
        """``c1(n_total)`` for these settings."""
        return _c1(n_total, self.alpha, self.mixture_scale)


def sequential_guard(  # noqa: PLR0913  # keyword arguments named by the statistics issue
    control: Arms,
    treatment: Arms,
    *,
    worse: Worse | str = Worse.HIGHER,
    relative: bool = False,
    alpha: float = 0.05,
    n_star: float = 10_000,
    tolerance: float = 0.0,
    min_n: int = 100,
    min_events: int = 10,
    non_inferiority_margin: float | None = None,
) -> GuardVerdict:
    """One look of a guardrail: fail when harm beyond ``tolerance`` is shown at any look.

    ``harm`` is ``+estimate`` when higher is worse and ``-estimate`` when lower is; the verdict
    is ``fail`` when ``harm - c1(N) * se > tolerance``, else ``pass`` (no regression detected
    so far), and ``inconclusive`` with a reason when a minimum is not met or the data are
    degenerate. Keyword arguments are as in ``GuardSettings``.

    Raises:
        ValidationError: a setting outside its range, or arms of different kinds.
    """
    settings = GuardSettings(
        worse=parse_worse(worse),
        relative=relative,
        alpha=alpha,
        n_star=n_star,
        tolerance=tolerance,
        min_n=min_n,
        min_events=min_events,
        non_inferiority_margin=non_inferiority_margin,
    )
    return assess_guard(control, treatment, settings)


def assess_guard(control: Arms, treatment: Arms, settings: GuardSettings) -> GuardVerdict:
    """``sequential_guard`` with settings built (and validated) once, at rollout start."""
    difference = difference_of(
        control, treatment, min_n=settings.min_n, min_events=settings.min_events
    )
    if isinstance(difference, Caveat):
        return GuardVerdict.inconclusive(difference, relative=settings.relative)
    boundary = settings.boundary(difference.n_total)
    estimate = _guarded_estimate(difference, settings, boundary)
    if isinstance(estimate, Caveat):
        return GuardVerdict.inconclusive(estimate, relative=settings.relative)
    value, se = estimate
    harm = value if settings.worse is Worse.HIGHER else -value
    return GuardVerdict(
        status=_status(harm, boundary * se, settings),
        estimate=value,
        ci_lower=value - boundary * se if settings.worse is Worse.HIGHER else -math.inf,
        ci_upper=value + boundary * se if settings.worse is Worse.LOWER else math.inf,
        reason=_strict_reason(harm, boundary * se, settings),
        se=se,
        boundary=boundary,
        relative=settings.relative,
    )


def _guarded_estimate(
    difference: Difference, settings: GuardSettings, boundary: float
) -> tuple[float, float] | Caveat:
    if not settings.relative:
        return difference.delta, difference.se
    lift = lift_of(difference, quantile=boundary)
    return lift if isinstance(lift, Caveat) else (lift.estimate, lift.se)


def _status(harm: float, half_width: float, settings: GuardSettings) -> GuardStatus:
    if harm - half_width > settings.tolerance:
        return GuardStatus.FAIL
    if _strict_reason(harm, half_width, settings) is not None:
        return GuardStatus.INCONCLUSIVE
    return GuardStatus.PASS


def _strict_reason(harm: float, half_width: float, settings: GuardSettings) -> Caveat | None:
    margin = settings.non_inferiority_margin
    if margin is None or harm - half_width > settings.tolerance or harm + half_width < margin:
        return None
    return Caveat.NON_INFERIORITY_NOT_SHOWN


def compare_sequential(  # noqa: PLR0913  # the two-sided twin of sequential_guard's arguments
    control: Arms,
    treatment: Arms,
    *,
    alpha: float = 0.05,
    n_star: float = 10_000,
    previous_p_value: float | None = None,
    min_n: int = 100,
    min_events: int = 10,
) -> Comparison:
    """Two-sided always-valid comparison of ``m_T - m_C`` for interim A/B views.

    The interval is this look's ``delta +- c2(N) * se``; ``p_value`` is the always-valid
    p-value, the running minimum of ``p_N`` (pass the previous look's as
    ``previous_p_value``), and ``significance`` follows it.

    Raises:
        ValidationError: a bad ``alpha``, ``n_star``, ``min_n``, ``min_events`` or a
            ``previous_p_value`` outside [0, 1].
    """
    alpha = check_alpha(alpha)
    scale = _two_sided_scale(check_positive(n_star, name="n_star"), alpha)
    previous = 1.0 if previous_p_value is None else check_probability(previous_p_value)
    difference = difference_of(
        control, treatment, min_n=check_min_n(min_n), min_events=check_min_events(min_events)
    )
    if isinstance(difference, Caveat):
        return Comparison.inconclusive(
            difference, relative=False, alternative=Alternative.TWO_SIDED, alpha=alpha
        )
    return _sequential_comparison(difference, alpha=alpha, scale=scale, previous=previous)


def _sequential_comparison(
    difference: Difference, *, alpha: float, scale: float, previous: float
) -> Comparison:
    delta, se = difference.delta, difference.se
    statistic = delta / se
    half_width = _c2(difference.n_total, alpha, scale) * se
    p_value = min(previous, _p_n(statistic, difference.n_total / scale))
    significant = p_value < alpha
    return Comparison(
        estimate=delta,
        se=se,
        ci_lower=delta - half_width,
        ci_upper=delta + half_width,
        p_value=p_value,
        dof=None,
        statistic=statistic,
        significance=Significance.SIGNIFICANT if significant else Significance.NOT_SIGNIFICANT,
        reason=None,
        relative=False,
        difference=delta,
        alternative=Alternative.TWO_SIDED,
        alpha=alpha,
    )
