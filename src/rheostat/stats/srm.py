"""Sample-ratio mismatch: are the observed arm sizes those of the intended split?

Two tests:

* ``srm_test``: Pearson's chi-square, for one look at a finished experiment. Looked at again and
  again, its false alarms add up: at p < 0.001, 1.2 % of A/A rollouts over 20 looks, and 3-4.5 %
  over the 30-90 looks of a three-stage canary (``rheostat simulate --scenario aa``).
* ``sequential_srm_test``: always valid, for a check that runs at every look. A
  Dirichlet-multinomial mixture against the intended split (Lindon & Malek, "Anytime-Valid
  Inference for Multinomial Count Data", NeurIPS 2022): its Bayes factor is a nonnegative
  martingale under the intended split, so by Ville's inequality the chance that it EVER exceeds
  ``1/alpha``, however often it is looked at, is at most ``alpha``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import special
from scipy import stats as distributions

from rheostat.errors import ValidationError
from rheostat.stats._validation import check_alpha, check_finite, is_count
from rheostat.stats.results import Caveat, SRMResult

__all__ = ["SRM_CONCENTRATION", "sequential_srm_test", "srm_test"]

_MIN_EXPECTED = 5.0

SRM_CONCENTRATION = 1_000.0
"""The mixture's concentration ``K`` (prior Dirichlet(K * p)): it is most sensitive to
deviations of the order of ``sqrt(p (1 - p) / K)`` in an arm's share, about 1.6 points at
50/50: a holdback that loses 10 % of its users is caught within a few thousand units."""


def srm_test(
    counts: Sequence[int], weights: Sequence[float], *, threshold: float = 0.001
) -> SRMResult:
    """Did assignment follow the intended split?

    ``E_i = w_i / sum(w) * sum(x)``, ``X2 = sum((x_i - E_i)**2 / E_i)`` over arms with
    ``w_i > 0``, and ``p = chi2(k - 1).sf(X2)``; a mismatch when ``p < threshold``, or when an
    arm meant to get nothing (weight 0) has units.

    Args:
        counts: observed units per arm.
        weights: intended weights per arm, in the same order (any scale).
        threshold: the p-value below which the split is broken.

    Returns:
        The result; ``no_units``, ``low_expected_count`` (an ``E_i < 5``) or ``invalid_input``
        (a count that is not an integer >= 0) when the test could not run.

    Raises:
        ValidationError: weights of another length than counts, negative or non-finite, or
            fewer than two positive; a threshold outside (0, 0.5).
    """
    checked = _checked_weights(weights, arms=len(counts))
    threshold = check_alpha(threshold, name="threshold")
    if not all(is_count(count) for count in counts):
        return _not_run(Caveat.INVALID_INPUT)
    total = sum(int(count) for count in counts)
    if total == 0:
        return _not_run(Caveat.NO_UNITS)
    if any(weight == 0 and count > 0 for weight, count in zip(checked, counts, strict=True)):
        return SRMResult(
            chi2=None, p_value=None, mismatch=True, reason=Caveat.UNITS_IN_ZERO_WEIGHT_ARM
        )
    return _chi_square(counts, checked, total=total, threshold=threshold)


def sequential_srm_test(
    counts: Sequence[int],
    weights: Sequence[float],
    *,
    alpha: float = 0.001,
    concentration: float = SRM_CONCENTRATION,
) -> SRMResult:
    """Did assignment follow the intended split? Valid at every look (see the module).

    With ``p_i = w_i / sum(w)`` and ``a_i = K p_i``, the Bayes factor of the counts ``x`` is
    ``B(a + x) / B(a) / prod(p_i ** x_i)`` (``B`` the multivariate Beta function); a mismatch
    when it reaches ``1 / alpha``, or when an arm meant to get nothing has units. The result's
    ``p_value`` is ``min(1, 1 / bayes_factor)``, a p-value valid at that look.

    Args:
        counts: observed units per arm, cumulative since the check began.
        weights: intended weights per arm, in the same order (any scale).
        alpha: the chance of a false mismatch over all looks, however many.
        concentration: the mixture's ``K`` (``SRM_CONCENTRATION``).

    Returns:
        The result (``chi2`` is Pearson's statistic, for the evidence); ``no_units``,
        ``low_expected_count`` (an expected count below 5) or ``invalid_input`` when the test
        could not run.

    Raises:
        ValidationError: weights as for ``srm_test``; ``alpha`` outside (0, 0.5); a
            concentration that is not finite and > 0.
    """
    checked = _checked_weights(weights, arms=len(counts))
    alpha = check_alpha(alpha, name="alpha")
    concentration = check_finite(concentration, name="concentration", minimum=0.0)
    if concentration <= 0:
        raise ValidationError(
            f"concentration must be > 0, got {concentration!r}",
            details={"field": "concentration", "expected": "> 0", "value": repr(concentration)},
        )
    if not all(is_count(count) for count in counts):
        return _not_run(Caveat.INVALID_INPUT)
    total = sum(int(count) for count in counts)
    if total == 0:
        return _not_run(Caveat.NO_UNITS)
    if any(weight == 0 and count > 0 for weight, count in zip(checked, counts, strict=True)):
        return SRMResult(
            chi2=None, p_value=None, mismatch=True, reason=Caveat.UNITS_IN_ZERO_WEIGHT_ARM
        )
    weighted = [(int(count), w) for count, w in zip(counts, checked, strict=True) if w > 0]
    observed = np.array([count for count, _ in weighted], dtype=np.float64)
    shares = np.array([w for _, w in weighted])
    shares /= shares.max()
    shares /= shares.sum()
    expected = shares * total
    if np.any(expected < _MIN_EXPECTED):
        return _not_run(Caveat.LOW_EXPECTED_COUNT)
    log_factor = _log_bayes_factor(observed, shares, concentration)
    chi2 = float(np.sum((observed - expected) ** 2 / expected))
    mismatch = log_factor >= -math.log(alpha)
    return SRMResult(
        chi2=chi2,
        p_value=float(min(1.0, math.exp(-log_factor))),
        mismatch=mismatch,
        reason=Caveat.SAMPLE_RATIO_MISMATCH if mismatch else None,
        bayes_factor=float(math.exp(min(log_factor, 700.0))),
    )


def _log_bayes_factor(observed: np.ndarray, shares: np.ndarray, concentration: float) -> float:
    prior = concentration * shares
    total = float(observed.sum())
    mixture = (
        special.gammaln(concentration)
        - special.gammaln(concentration + total)
        + float(np.sum(special.gammaln(prior + observed) - special.gammaln(prior)))
    )
    null = float(np.sum(observed * np.log(shares)))
    return float(mixture - null)


def _checked_weights(weights: Sequence[float], *, arms: int) -> list[float]:
    if len(weights) != arms:
        raise ValidationError(
            f"weights must have one entry per arm ({arms}), got {len(weights)}",
            details={"field": "weights", "expected": arms, "value": len(weights)},
        )
    checked = [
        check_finite(weight, name=f"weights[{index}]", minimum=0.0)
        for index, weight in enumerate(weights)
    ]
    if sum(weight > 0 for weight in checked) < 2:  # a split needs two arms
        raise ValidationError(
            "weights must give at least two arms a positive weight",
            details={"field": "weights", "value": repr(list(weights))},
        )
    return checked


def _chi_square(
    counts: Sequence[int], weights: Sequence[float], *, total: int, threshold: float
) -> SRMResult:
    weighted = [(int(count), w) for count, w in zip(counts, weights, strict=True) if w > 0]
    observed = np.array([count for count, _ in weighted], dtype=np.float64)
    intended = np.array([w for _, w in weighted])
    intended /= intended.max()  # so that huge weights cannot overflow their sum
    expected = intended / intended.sum() * total
    if np.any(expected < _MIN_EXPECTED):
        return _not_run(Caveat.LOW_EXPECTED_COUNT)
    chi2 = float(np.sum((observed - expected) ** 2 / expected))
    p_value = float(distributions.chi2.sf(chi2, len(expected) - 1))
    mismatch = p_value < threshold
    reason = Caveat.SAMPLE_RATIO_MISMATCH if mismatch else None
    return SRMResult(chi2=chi2, p_value=p_value, mismatch=mismatch, reason=reason)


def _not_run(reason: Caveat) -> SRMResult:
    return SRMResult(chi2=None, p_value=None, mismatch=False, reason=reason)
