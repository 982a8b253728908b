"""Treatment minus control from two arms' sufficient statistics, or the reason it cannot be had.

Shared by the fixed-horizon tests (``frequentist``) and the confidence sequences
(``sequential``). Pure ``math`` on purpose: the guardrail runs at every look of every rollout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

from rheostat.errors import ValidationError
from rheostat.stats.results import Caveat
from rheostat.stats.sufficient import ProportionStats, SampleStats

__all__ = ["Arms", "Difference", "Lift", "difference_of", "lift_of"]

Arms = SampleStats | ProportionStats


@dataclass(frozen=True, slots=True, kw_only=True)
class Difference:
    """Both arms' means and variances of the mean (``v = s2 / n``).

    Attributes:
        control_mean: ``m_C``.
        treatment_mean: ``m_T``.
        control_variance: ``v_C``, the variance of ``m_C``.
        treatment_variance: ``v_T``, the variance of ``m_T``.
        n_total: ``n_C + n_T``.
        dof: Welch-Satterthwaite degrees of freedom (means); ``None`` for proportions.
    """

    control_mean: float
    treatment_mean: float
    control_variance: float
    treatment_variance: float
    n_total: int
    dof: float | None

    @property
    def delta(self) -> float:
        """``m_T - m_C``."""
        return self.treatment_mean - self.control_mean

    @property
    def se(self) -> float:
        """``sqrt(v_T + v_C)``."""
        return math.sqrt(self.treatment_variance + self.control_variance)


@dataclass(frozen=True, slots=True, kw_only=True)
class Lift:
    """The relative lift ``(m_T - m_C) / |m_C|`` and its delta-method standard error."""

    estimate: float
    se: float


def difference_of(
    control: Arms, treatment: Arms, *, min_n: int, min_events: int
) -> Difference | Caveat:
    """Summarise both arms, or return why no verdict may be drawn from them.

    Raises:
        ValidationError: the arms are not both ``SampleStats`` or both ``ProportionStats``.
    """
    if isinstance(control, SampleStats) and isinstance(treatment, SampleStats):
        found = _means(control, treatment, min_n=min_n)
    elif isinstance(control, ProportionStats) and isinstance(treatment, ProportionStats):
        found = _proportions(control, treatment, min_n=min_n, min_events=min_events)
    else:
        raise ValidationError(
            "control and treatment must both be SampleStats or both ProportionStats, got "
            f"{type(control).__name__} and {type(treatment).__name__}"
        )
    if isinstance(found, Difference) and not _is_finite(found):
        return Caveat.INVALID_INPUT
    return found


def lift_of(difference: Difference, *, quantile: float) -> Lift | Caveat:
    """Return the lift, or why it is undefined: ``m_C = 0``, or ``m_C**2 <= q**2 * v_C``.

    In the second case the exact (Fieller) interval is unbounded, so any finite interval
    would mislead.
    """
    control_mean = difference.control_mean
    if control_mean == 0:
        return Caveat.ZERO_CONTROL_MEAN
    if control_mean * control_mean <= quantile * quantile * difference.control_variance:
        return Caveat.UNSTABLE_BASELINE
    ratio = difference.treatment_mean / control_mean
    se = math.sqrt(difference.treatment_variance + difference.control_variance * ratio * ratio)
    lift = Lift(estimate=difference.delta / abs(control_mean), se=se / abs(control_mean))
    if not (math.isfinite(lift.estimate) and math.isfinite(lift.se)) or lift.se == 0:
        return Caveat.UNSTABLE_BASELINE
    return lift


def _means(control: SampleStats, treatment: SampleStats, *, min_n: int) -> Difference | Caveat:
    if not (control.is_valid and treatment.is_valid):
        return Caveat.INVALID_INPUT
    if min(control.n, treatment.n) < min_n:
        return Caveat.TOO_FEW_UNITS
    # Valid arms with n >= min_n >= 2 always have a variance.
    v_c = cast(float, control.variance) / control.n
    v_t = cast(float, treatment.variance) / treatment.n
    if v_c + v_t == 0:
        return Caveat.ZERO_VARIANCE
    share_c, share_t = v_c / (v_c + v_t), v_t / (v_c + v_t)  # scaled, so nothing over/underflows
    dof = 1.0 / (share_t * share_t / (treatment.n - 1) + share_c * share_c / (control.n - 1))
    return Difference(
        control_mean=float(control.sum) / control.n,
        treatment_mean=float(treatment.sum) / treatment.n,
        control_variance=v_c,
        treatment_variance=v_t,
        n_total=int(control.n + treatment.n),
        dof=dof,
    )


def _proportions(
    control: ProportionStats, treatment: ProportionStats, *, min_n: int, min_events: int
) -> Difference | Caveat:
    if not (control.is_valid and treatment.is_valid):
        return Caveat.INVALID_INPUT
    if min(control.n, treatment.n) < min_n:
        return Caveat.TOO_FEW_UNITS
    events = int(control.successes + treatment.successes)
    if min(events, int(control.n + treatment.n) - events) < min_events:
        return Caveat.TOO_FEW_EVENTS
    m_c, m_t = int(control.successes) / int(control.n), int(treatment.successes) / int(treatment.n)
    v_c, v_t = m_c * (1.0 - m_c) / int(control.n), m_t * (1.0 - m_t) / int(treatment.n)
    if v_c + v_t == 0:
        return Caveat.ZERO_VARIANCE
    return Difference(
        control_mean=m_c,
        treatment_mean=m_t,
        control_variance=v_c,
        treatment_variance=v_t,
        n_total=int(control.n + treatment.n),
        dof=None,
    )


def _is_finite(difference: Difference) -> bool:
    se = difference.se
    return (
        math.isfinite(difference.delta)
        and math.isfinite(se)
        and se > 0
        and math.isfinite(difference.delta / se)
        and (difference.dof is None or math.isfinite(difference.dof))
    )
