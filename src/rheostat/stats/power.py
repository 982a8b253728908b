"""Planning: sample size, minimum detectable effect (MDE) and the guardrail's sample size.

Fixed-horizon sizes use ``n = (z_{1-a} + z_{1-b})**2 * (s_C**2 + s_T**2) / d**2`` per arm
(``z_{1-a/2}`` two-sided). The guardrail needs ``d / se(N) >= c1(N) + z_{1-b}``, solved with
``brentq``; near ``N*`` that is about 2.1 times the fixed one-sided sample. Every argument is
configuration, so a bad one raises ``ValidationError``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from scipy import optimize
from scipy import stats as distributions

from rheostat.errors import ValidationError
from rheostat.stats._validation import (
    check_alpha,
    check_finite,
    check_positive,
    check_power,
    parse_alternative,
)
from rheostat.stats.results import Alternative
from rheostat.stats.sequential import GuardSettings

__all__ = [
    "guardrail_sample_size",
    "guardrail_sample_size_proportions",
    "minimum_detectable_effect",
    "minimum_detectable_effect_proportions",
    "sample_size",
    "sample_size_proportions",
]

_SMALLEST_TOTAL = 4  # two units per arm: the least that has a variance
_DOUBLINGS = 200


def sample_size(  # noqa: PLR0913  # keyword arguments named by the statistics issue
    baseline_mean: float,
    baseline_sd: float,
    mde: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    relative: bool = True,
    alternative: Alternative | str = Alternative.TWO_SIDED,
    ratio: float = 1.0,
) -> int:
    """Control-arm units to detect a change ``mde`` in a mean (same sd in both arms).

    Args:
        baseline_mean: the control mean ``mu_C`` (used when ``relative``).
        baseline_sd: the per-unit standard deviation in both arms.
        mde: the effect to detect; relative (``0.02`` = +2%) when ``relative``, else absolute.
        alpha: significance level, in (0, 0.5).
        power: probability of detecting ``mde``, in (0, 1).
        relative: ``mde`` is a share of ``baseline_mean``.
        alternative: ``"two-sided"``, or one-sided (``"greater"`` or ``"less"``).
        ratio: ``kappa = n_T / n_C``; the treatment arm needs ``ceil(ratio * n_C)`` units.

    Returns:
        ``n_C = ceil((z_a + z_b)**2 * (s_C**2 + s_T**2 / kappa) / d**2)``.

    Raises:
        ValidationError: an argument outside its range.
    """
    variance = check_positive(baseline_sd, name="baseline_sd") ** 2
    delta = _absolute_effect(baseline_mean, mde, relative=relative)
    z = _z_sum(alpha, power, alternative)
    kappa = check_positive(ratio, name="ratio")
    return math.ceil(z * z * (variance + variance / kappa) / (delta * delta))


def sample_size_proportions(  # noqa: PLR0913  # the proportion twin of sample_size
    baseline_rate: float,
    mde: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    relative: bool = True,
    alternative: Alternative | str = Alternative.TWO_SIDED,
    ratio: float = 1.0,
) -> int:
    """Control-arm units to detect a change of a proportion from ``baseline_rate``.

    ``s_j**2 = p_j (1 - p_j)`` with ``p_T = p_C + d``; otherwise as ``sample_size``.

    Raises:
        ValidationError: an argument outside its range, or ``p_T`` outside (0, 1).
    """
    variance_c, variance_t, delta = _proportion_variances(baseline_rate, mde, relative=relative)
    z = _z_sum(alpha, power, alternative)
    kappa = check_positive(ratio, name="ratio")
    return math.ceil(z * z * (variance_c + variance_t / kappa) / (delta * delta))


def minimum_detectable_effect(  # noqa: PLR0913  # keyword arguments named by the statistics issue
    baseline_mean: float,
    baseline_sd: float,
    n_per_arm: int,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    relative: bool = True,
    alternative: Alternative | str = Alternative.TWO_SIDED,
) -> float:
    """The smallest change of a mean detected with ``power`` at ``n_per_arm`` units per arm.

    Returns:
        ``d = (z_a + z_b) * sqrt(2 s**2 / n)``, as a share of ``baseline_mean`` when
        ``relative``.

    Raises:
        ValidationError: an argument outside its range.
    """
    variance = check_positive(baseline_sd, name="baseline_sd") ** 2
    n = _check_n_per_arm(n_per_arm)
    delta = _z_sum(alpha, power, alternative) * math.sqrt(2.0 * variance / n)
    return delta / abs(_baseline(baseline_mean, relative=True)) if relative else delta


def minimum_detectable_effect_proportions(  # the proportion twin of the above
    baseline_rate: float,
    n_per_arm: int,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    relative: bool = True,
    alternative: Alternative | str = Alternative.TWO_SIDED,
) -> float | None:
    """The smallest increase of a proportion detected with ``power`` at ``n_per_arm``.

    Solves ``d = (z_a + z_b) * sqrt((p_C (1 - p_C) + p_T (1 - p_T)) / n)`` for
    ``p_T = p_C + d``.

    Returns:
        ``d``, as a share of ``baseline_rate`` when ``relative``; ``None`` when not even
        ``p_T = 1`` would be detected.

    Raises:
        ValidationError: an argument outside its range.
    """
    rate = _check_rate(baseline_rate, name="baseline_rate")
    n, z = _check_n_per_arm(n_per_arm), _z_sum(alpha, power, alternative)

    def shortfall(delta: float) -> float:
        treatment = rate + delta
        return delta - z * math.sqrt((rate * (1 - rate) + treatment * (1 - treatment)) / n)

    if shortfall(1.0 - rate) < 0:
        return None
    delta = float(optimize.brentq(shortfall, 0.0, 1.0 - rate, xtol=1e-15, rtol=1e-12))
    return delta / rate if relative else delta


def guardrail_sample_size(  # noqa: PLR0913  # keyword arguments named by the statistics issue
    baseline_mean: float,
    baseline_sd: float,
    mde: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    n_star: float = 10_000,
    relative: bool = True,
) -> int:
    """Total units (both arms, 1:1) for the guardrail sequence to flag a harm of ``mde``.

    The smallest ``N`` with ``|d| / se(N) >= c1(N) + z_{1-b}``, ``se(N) = sqrt(4 s**2 / N)``:
    a single-look approximation, so conservative.

    Raises:
        ValidationError: an argument outside its range.
    """
    variance = check_positive(baseline_sd, name="baseline_sd") ** 2
    delta = _absolute_effect(baseline_mean, mde, relative=relative)
    settings = GuardSettings(alpha=alpha, n_star=n_star)
    return _guardrail_total(delta, 2.0 * variance, settings, power=check_power(power))


def guardrail_sample_size_proportions(  # the proportion twin of the above
    baseline_rate: float,
    mde: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    n_star: float = 10_000,
    relative: bool = True,
) -> int:
    """Total units (both arms, 1:1) for the guardrail sequence to flag ``p_C -> p_C + d``.

    Raises:
        ValidationError: an argument outside its range, or ``p_T`` outside (0, 1).
    """
    variance_c, variance_t, delta = _proportion_variances(baseline_rate, mde, relative=relative)
    settings = GuardSettings(alpha=alpha, n_star=n_star)
    return _guardrail_total(delta, variance_c + variance_t, settings, power=check_power(power))


def _guardrail_total(
    delta: float, variance_sum: float, settings: GuardSettings, *, power: float
) -> int:
    z_power = float(distributions.norm.isf(1.0 - power))

    def margin(n_total: float) -> float:
        se = math.sqrt(2.0 * variance_sum / n_total)
        return abs(delta) / se - settings.boundary(n_total) - z_power

    if margin(_SMALLEST_TOTAL) >= 0:
        return _SMALLEST_TOTAL
    upper = _first_positive(margin, start=float(_SMALLEST_TOTAL))
    n_total = float(optimize.brentq(margin, upper / 2.0, upper, xtol=1e-6, rtol=1e-12))
    return math.ceil(n_total)


def _first_positive(function: Callable[[float], float], *, start: float) -> float:
    point = start
    for _ in range(_DOUBLINGS):
        point *= 2.0
        if function(point) > 0:
            return point
    raise ValidationError("the effect is too small to be detected by any sample size")


def _z_sum(alpha: float, power: float, alternative: Alternative | str) -> float:
    alpha = check_alpha(alpha)
    tail = alpha / 2 if parse_alternative(alternative) is Alternative.TWO_SIDED else alpha
    return float(distributions.norm.isf(tail) + distributions.norm.isf(1.0 - check_power(power)))


def _baseline(baseline_mean: float, *, relative: bool) -> float:
    mean = check_finite(baseline_mean, name="baseline_mean")
    if relative and mean == 0:
        raise ValidationError(
            "baseline_mean must not be 0 when the effect is relative",
            details={"field": "baseline_mean", "value": repr(baseline_mean)},
        )
    return mean


def _absolute_effect(baseline_mean: float, mde: float, *, relative: bool) -> float:
    effect = check_finite(mde, name="mde")
    if effect == 0:
        raise ValidationError("mde must not be 0", details={"field": "mde", "value": "0"})
    return effect * abs(_baseline(baseline_mean, relative=relative)) if relative else effect


def _check_rate(rate: float, *, name: str) -> float:
    value = check_finite(rate, name=name)
    if not 0.0 < value < 1.0:
        raise ValidationError(
            f"{name} must be in the open interval (0, 1), got {rate!r}",
            details={"field": name, "value": repr(rate)},
        )
    return value


def _proportion_variances(
    baseline_rate: float, mde: float, *, relative: bool
) -> tuple[float, float, float]:
    rate = _check_rate(baseline_rate, name="baseline_rate")
    delta = _absolute_effect(rate, mde, relative=relative)
    treatment = _check_rate(rate + delta, name="baseline_rate + effect")
    return rate * (1.0 - rate), treatment * (1.0 - treatment), delta


def _check_n_per_arm(n_per_arm: int) -> int:
    if not isinstance(n_per_arm, int) or isinstance(n_per_arm, bool) or n_per_arm < 2:
        raise ValidationError(
            f"n_per_arm must be an integer >= 2, got {n_per_arm!r}",
            details={"field": "n_per_arm", "value": repr(n_per_arm)},
        )
    return n_per_arm
