"""Write the reference vectors for ``rheostat.stats`` from sources independent of it.

Run once (``python tests/vectors/stats/generate.py``) and commit the JSON it writes; the tests
only read the JSON. Nothing here imports ``rheostat``: expected values come from scipy and
statsmodels on raw data, from numerical integration of the mixture likelihood ratio, and from
the worked examples of ``shared/design/STATS.md`` (``worked_examples.json`` is written by hand
below, at the precision STATS.md prints).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from scipy import integrate, optimize, stats
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportions_ztest,
    test_proportions_2indep,
)

HERE = Path(__file__).parent
SEED = 20240517
ALTERNATIVES = {"two-sided": "two-sided", "greater": "larger", "less": "smaller"}


def _write(name: str, document: dict[str, Any]) -> None:
    (HERE / name).write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")


def _sufficient(values: np.ndarray) -> dict[str, float]:
    return {
        "n": len(values),
        "sum": math.fsum(values.tolist()),
        "sum_squares": math.fsum((values * values).tolist()),
    }


def welch_cases(rng: np.random.Generator) -> list[dict[str, Any]]:
    """scipy.stats.ttest_ind(equal_var=False) on raw data, summarised for the inputs."""
    cases = []
    for index in range(40):
        n_c, n_t = (int(x) for x in rng.integers(100, 3000, size=2))
        scale_c, scale_t = rng.uniform(0.5, 50.0, size=2)
        shift = rng.normal(0.0, 0.1) * scale_c
        control = np.round(rng.lognormal(3.0, 0.7, n_c) * scale_c, 3)
        treatment = np.round(rng.lognormal(3.0, 0.7, n_t) * scale_t + shift, 3)
        alternative = list(ALTERNATIVES)[index % 3]
        alpha = (0.05, 0.01, 0.1, 0.2)[index % 4]
        result = stats.ttest_ind(treatment, control, equal_var=False, alternative=alternative)
        interval = result.confidence_interval(confidence_level=1 - alpha)
        cases.append(
            {
                "inputs": {
                    "control": _sufficient(control),
                    "treatment": _sufficient(treatment),
                    "alternative": alternative,
                    "alpha": alpha,
                },
                "expected": {
                    "statistic": float(result.statistic),
                    "p_value": float(result.pvalue),
                    "dof": float(result.df),
                    "ci_lower": float(interval.low),
                    "ci_upper": float(interval.high),
                },
            }
        )
    return cases


def proportion_cases(rng: np.random.Generator) -> list[dict[str, Any]]:
    """statsmodels test/confint_proportions_2indep(method="wald") and proportions_ztest."""
    cases = []
    for index in range(40):
        n_c, n_t = (int(x) for x in rng.integers(200, 20000, size=2))
        rate = rng.uniform(0.01, 0.6)
        s_c = int(rng.binomial(n_c, rate))
        s_t = int(rng.binomial(n_t, rate * rng.uniform(0.8, 1.25)))
        alternative = list(ALTERNATIVES)[index % 3]
        alpha = (0.05, 0.01, 0.1)[index % 3]
        test = test_proportions_2indep(
            s_t, n_t, s_c, n_c, method="wald", compare="diff",
            alternative=ALTERNATIVES[alternative],
        )  # fmt: skip
        low, high = confint_proportions_2indep(
            s_t, n_t, s_c, n_c, method="wald", compare="diff", alpha=alpha
        )
        _, pooled = proportions_ztest([s_t, s_c], [n_t, n_c], alternative=ALTERNATIVES[alternative])
        expected = {"statistic": float(test.statistic), "p_value": float(test.pvalue)}
        expected["pooled_p_value"] = float(pooled)
        if alternative == "two-sided":
            expected |= {"ci_lower": float(low), "ci_upper": float(high)}
        cases.append(
            {
                "inputs": {
                    "control": {"n": n_c, "successes": s_c},
                    "treatment": {"n": n_t, "successes": s_t},
                    "alternative": alternative,
                    "alpha": alpha,
                },
                "expected": expected,
            }
        )
    return cases


def srm_cases(rng: np.random.Generator) -> list[dict[str, Any]]:
    """scipy.stats.chisquare with f_exp = w / sum(w) * sum(x)."""
    cases = []
    for _ in range(30):
        arms = int(rng.integers(2, 6))
        weights = [float(w) for w in rng.integers(1, 100, size=arms)]
        total = int(rng.integers(1000, 200000))
        skew = rng.dirichlet(np.array(weights) * rng.choice([30.0, 3000.0, 300000.0]))
        counts = [int(c) for c in rng.multinomial(total, skew)]
        expected = np.array(weights) / sum(weights) * sum(counts)
        result = stats.chisquare(counts, f_exp=expected)
        cases.append(
            {
                "inputs": {"counts": counts, "weights": weights},
                "expected": {
                    "chi2": float(result.statistic),
                    "p_value": float(result.pvalue),
                    "mismatch": bool(result.pvalue < 0.001),
                },
            }
        )
    return cases


def _mixture_likelihood_ratio(z: float, k: float) -> float:
    """Lambda = E_theta exp(theta sqrt(k) z - theta**2 k / 2), theta ~ N(0, 1), by quadrature."""

    def integrand(theta: float) -> float:
        return math.exp(theta * math.sqrt(k) * z - theta * theta * k / 2) * stats.norm.pdf(theta)

    peak = math.sqrt(k) * z / (1 + k)
    value, _ = integrate.quad(integrand, peak - 40, peak + 40, epsabs=0, epsrel=1e-13, limit=400)
    return float(value)


def _two_sided_scale(n_star: float, alpha: float) -> float:
    return n_star / (-2 * math.log(alpha) + math.log(1 - 2 * math.log(alpha)))


def sequential_cases() -> list[dict[str, Any]]:
    """p_N = 1 / Lambda and c2 (where Lambda = 1/alpha) from the mixture integral itself."""
    cases = []
    for n_total, z, alpha, n_star in [
        (300, 2.5, 0.05, 10_000),
        (1_200, 3.1, 0.05, 10_000),
        (11_000, 2.9, 0.05, 10_000),
        (40_000, 1.2, 0.05, 10_000),
        (6_000, 3.94, 0.025, 10_000),
        (500, 4.0, 0.01, 2_000),
        (50_000, 3.3, 0.1, 12_000),
    ]:
        k = n_total / _two_sided_scale(n_star, alpha)
        boundary = optimize.brentq(
            lambda c, k=k, alpha=alpha: math.log(_mixture_likelihood_ratio(c, k)) + math.log(alpha),
            0.1,
            20.0,
            xtol=1e-13,
        )
        cases.append(
            {
                "inputs": {"n_total": n_total, "statistic": z, "alpha": alpha, "n_star": n_star},
                "expected": {
                    "p_value": min(1.0, 1.0 / _mixture_likelihood_ratio(z, k)),
                    "two_sided_boundary": boundary,
                },
            }
        )
    return cases


def _power(effect: float, nobs: float, alpha: float) -> float:
    return float(NormalIndPower().power(effect, nobs, alpha, ratio=1.0, alternative="larger"))


def power_cases() -> list[dict[str, Any]]:
    """statsmodels NormalIndPower().power (one-sided), solved to 1e-14 with brentq."""
    cases = []
    for sd, delta, alpha, power in [
        (150.0, 5.0, 0.05, 0.8),
        (1.0, 0.1, 0.01, 0.9),
        (20, 3, 0.1, 0.5),
    ]:
        nobs = optimize.brentq(
            lambda n, d=delta / sd, a=alpha, p=power: _power(d, n, a) - p, 2, 1e9, xtol=1e-12
        )
        cases.append(
            {
                "inputs": {"sd": sd, "mde": delta, "alpha": alpha, "power": power},
                "expected": {"nobs_per_arm": float(nobs)},
            }
        )
    for sd, n, alpha, power in [(150.0, 14_128, 0.05, 0.8), (2.0, 500, 0.01, 0.95)]:
        effect = optimize.brentq(
            lambda d, n=n, a=alpha, p=power: _power(d, n, a) - p, 1e-9, 50.0, xtol=1e-15
        )
        cases.append(
            {
                "inputs": {"sd": sd, "n_per_arm": n, "alpha": alpha, "power": power},
                "expected": {"mde": float(effect) * sd},
            }
        )
    return cases


def main() -> None:
    """Write every vector file that is computed (worked_examples.json is hand-written)."""
    rng = np.random.default_rng(SEED)
    common = {"generator": "tests/vectors/stats/generate.py", "seed": SEED}
    _write(
        "welch.json",
        common | {
            "provenance": "scipy.stats.ttest_ind(treatment, control, equal_var=False) on the raw "
            "data (statistic, pvalue, df, confidence_interval); inputs are its sums (math.fsum)",
            "tolerance": {"rel": 1e-9, "abs": 1e-12},
            "cases": welch_cases(rng),
        },
    )  # fmt: skip
    _write(
        "proportions.json",
        common | {
            "provenance": "statsmodels test_proportions_2indep and confint_proportions_2indep "
            "(method='wald', compare='diff', treatment first); pooled: proportions_ztest",
            "tolerance": {"rel": 1e-9, "abs": 1e-12},
            "cases": proportion_cases(rng),
        },
    )  # fmt: skip
    _write(
        "srm.json",
        common | {
            "provenance": "scipy.stats.chisquare(counts, f_exp=w / sum(w) * sum(counts))",
            "tolerance": {"rel": 1e-9, "abs": 1e-12},
            "cases": srm_cases(rng),
        },
    )  # fmt: skip
    _write(
        "mixture.json",
        common | {
            "provenance": "scipy.integrate.quad of the normal-mixture likelihood ratio "
            "(theta ~ N(0, 1), information k = N / r2); c2 by brentq on Lambda = 1 / alpha",
            "tolerance": {"rel": 1e-8, "abs": 1e-12},
            "cases": sequential_cases(),
        },
    )  # fmt: skip
    _write(
        "power.json",
        common | {
            "provenance": "statsmodels NormalIndPower().power(..., alternative='larger') "
            "solved for nobs1 or effect size with scipy brentq (xtol 1e-12 / 1e-15)",
            "tolerance": {"rel": 1e-9},
            "cases": power_cases(),
        },
    )  # fmt: skip


if __name__ == "__main__":
    main()
