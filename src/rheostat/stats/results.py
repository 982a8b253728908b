"""What the statistics functions return: values, never exceptions, for any data.

A result that could not be computed says why in ``reason`` (a ``Caveat``) and carries ``None``
estimates; no field is ever NaN. Open ends of one-sided intervals are ``math.inf`` (never ``None``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "Alternative",
    "Caveat",
    "Comparison",
    "GuardStatus",
    "GuardVerdict",
    "SRMResult",
    "Significance",
    "Worse",
]


class Alternative(StrEnum):
    """The alternative hypothesis of an A/B comparison (treatment against control)."""

    TWO_SIDED = "two-sided"
    GREATER = "greater"  # H1: mu_T > mu_C
    LESS = "less"  # H1: mu_T < mu_C


class Worse(StrEnum):
    """Which direction of a guardrail metric is harmful."""

    HIGHER = "higher"  # errors, latency
    LOWER = "lower"  # conversion


class Significance(StrEnum):
    """Outcome of an A/B comparison."""

    SIGNIFICANT = "significant"
    NOT_SIGNIFICANT = "not_significant"
    INCONCLUSIVE = "inconclusive"


class GuardStatus(StrEnum):
    """Outcome of one guardrail look (the rollout gates' verdict values)."""

    PASS = "pass"  # noqa: S105  # a verdict, not a password; no regression detected so far
    FAIL = "fail"  # a regression beyond the tolerance, valid at any look
    INCONCLUSIVE = "inconclusive"  # a minimum is not met or the data are degenerate


class Caveat(StrEnum):
    """The ``reason`` of a result: a caveat to read it with.

    Why a comparison or guardrail look is inconclusive, why a lift came back on the absolute
    scale, or why a sample-ratio test found the split broken or could not run. Named apart from
    ``rheostat.flags.Reason`` (the OpenFeature evaluation reasons).
    """

    TOO_FEW_UNITS = "too_few_units"
    TOO_FEW_EVENTS = "too_few_events"
    ZERO_VARIANCE = "zero_variance"
    ZERO_CONTROL_MEAN = "zero_control_mean"
    UNSTABLE_BASELINE = "unstable_baseline"
    INVALID_INPUT = "invalid_input"
    NON_INFERIORITY_NOT_SHOWN = "non_inferiority_not_shown"
    NO_UNITS = "no_units"
    LOW_EXPECTED_COUNT = "low_expected_count"
    UNITS_IN_ZERO_WEIGHT_ARM = "units_in_zero_weight_arm"
    SAMPLE_RATIO_MISMATCH = "srm"


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    """An A/B result for one metric: treatment minus control (or the relative lift).

    Attributes:
        estimate: the difference ``m_T - m_C``, or the lift ``(m_T - m_C) / |m_C|`` when
            ``relative`` is true; ``None`` when inconclusive.
        se: standard error of ``estimate``.
        ci_lower: lower confidence bound of ``estimate`` (``-math.inf`` when open).
        ci_upper: upper confidence bound of ``estimate`` (``math.inf`` when open).
        p_value: p-value of the absolute-scale test (the null ``mu_T = mu_C``).
        dof: Welch degrees of freedom; ``None`` for the normal (z) tests.
        statistic: the t or z statistic ``difference / se_difference``.
        significance: significant, not significant, or inconclusive.
        reason: why it is inconclusive, or why a requested lift was replaced by the absolute
            result (``zero_control_mean``, ``unstable_baseline``); ``None`` otherwise.
        relative: whether ``estimate``, ``se`` and the interval are on the lift scale.
        difference: the absolute difference ``m_T - m_C`` whenever it could be computed.
        alternative: the alternative hypothesis used.
        alpha: the significance level used.
        pooled_p_value: proportions only, the auxiliary pooled-variance z-test p-value.
    """

    estimate: float | None
    se: float | None
    ci_lower: float | None
    ci_upper: float | None
    p_value: float | None
    dof: float | None
    statistic: float | None
    significance: Significance
    reason: Caveat | None
    relative: bool
    difference: float | None
    alternative: Alternative
    alpha: float
    pooled_p_value: float | None = None

    @classmethod
    def inconclusive(
        cls, reason: Caveat, *, relative: bool, alternative: Alternative, alpha: float
    ) -> Comparison:
        """Build the result that says only why nothing could be concluded."""
        return cls(
            estimate=None,
            se=None,
            ci_lower=None,
            ci_upper=None,
            p_value=None,
            dof=None,
            statistic=None,
            significance=Significance.INCONCLUSIVE,
            reason=reason,
            relative=relative,
            difference=None,
            alternative=alternative,
            alpha=alpha,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class GuardVerdict:
    """One look of a guardrail: has the treatment made the metric worse?

    The interval is the one-sided always-valid confidence sequence on ``estimate``:
    ``[ci_lower, inf)`` when higher is worse, ``(-inf, ci_upper]`` when lower is worse. After a
    ``fail`` report the bound, not ``estimate`` (biased away from zero at a stopping time).

    Attributes:
        status: pass, fail or inconclusive.
        estimate: the difference (or lift when ``relative``); ``None`` when inconclusive.
        ci_lower: lower end of the always-valid interval (``-math.inf`` when open).
        ci_upper: upper end of the always-valid interval (``math.inf`` when open).
        reason: why it is inconclusive; ``None`` for pass and fail.
        se: standard error of ``estimate``.
        boundary: the sequence's critical value ``c1(N)`` at this look's total units.
        relative: whether the estimate and interval are on the lift scale.
    """

    status: GuardStatus
    estimate: float | None
    ci_lower: float | None
    ci_upper: float | None
    reason: Caveat | None
    se: float | None = None
    boundary: float | None = None
    relative: bool = False

    @classmethod
    def inconclusive(cls, reason: Caveat, *, relative: bool) -> GuardVerdict:
        """Build the verdict that says only why no decision could be made."""
        return cls(
            status=GuardStatus.INCONCLUSIVE,
            estimate=None,
            ci_lower=None,
            ci_upper=None,
            reason=reason,
            relative=relative,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SRMResult:
    """Sample-ratio mismatch: did assignment follow the intended split?

    Attributes:
        chi2: Pearson's chi-square statistic over the arms with positive weight.
        p_value: its upper-tail p-value (``k - 1`` degrees of freedom).
        mismatch: whether the split is broken (``p_value`` below the threshold, or units in an
            arm whose intended weight is 0).
        reason: ``srm`` or ``units_in_zero_weight_arm`` for a mismatch; ``no_units``,
            ``low_expected_count`` or ``invalid_input`` when the test could not run.
        bayes_factor: the sequential test's evidence against the intended split (``None``
            for the chi-square test).
    """

    chi2: float | None
    p_value: float | None
    mismatch: bool
    reason: Caveat | None
    bayes_factor: float | None = None
