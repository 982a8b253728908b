"""Hypothesis strategies shared by the ``rheostat.stats`` tests: arms that can come from data."""

from __future__ import annotations

import math

from hypothesis import strategies as st

from rheostat.stats import ProportionStats, SampleStats


def sample_stats_from(n: int, mean: float, sd: float) -> SampleStats:
    """Sufficient statistics of ``n`` units with this mean and sample standard deviation."""
    return SampleStats(n, n * mean, (n - 1) * sd * sd + n * mean * mean)


@st.composite
def sample_arms(
    draw: st.DrawFn, *, min_n: int = 100, max_n: int = 5_000, min_sd: float = 0.01
) -> SampleStats:
    """A mean-metric arm with ``min_n <= n <= max_n`` and a positive variance."""
    n = draw(st.integers(min_value=min_n, max_value=max_n))
    mean = draw(st.floats(min_value=-1_000.0, max_value=1_000.0, allow_subnormal=False))
    sd = draw(st.floats(min_value=min_sd, max_value=1_000.0, allow_subnormal=False))
    return sample_stats_from(n, mean, sd)


@st.composite
def proportion_arms(draw: st.DrawFn, *, min_n: int = 100, max_n: int = 50_000) -> ProportionStats:
    """A proportion arm with ``min_n <= n <= max_n``."""
    n = draw(st.integers(min_value=min_n, max_value=max_n))
    return ProportionStats(n, draw(st.integers(min_value=0, max_value=n)))


@st.composite
def balanced_proportion_arms(draw: st.DrawFn) -> ProportionStats:
    """A proportion arm away from 0% and 100%, so that both arms together pass the minimums."""
    n = draw(st.integers(min_value=200, max_value=50_000))
    return ProportionStats(n, draw(st.integers(min_value=10, max_value=n - 10)))


def any_sample_stats() -> st.SearchStrategy[SampleStats]:
    """Any valid mean-metric arm, degenerate ones included (n = 0 or 1, zero variance)."""
    values = st.lists(
        st.one_of(
            st.sampled_from([0.0, 1.0, -1.0, 1e-300, 1e300]),
            st.floats(min_value=-1e6, max_value=1e6),
            st.floats(min_value=-1e150, max_value=1e150),
        ),
        max_size=30,
    )
    constant = st.builds(
        lambda n, value: SampleStats(n, n * value, n * value * value),
        st.integers(min_value=0, max_value=10**6),
        st.floats(min_value=-1e3, max_value=1e3),
    )
    return st.one_of(values.map(SampleStats.of), constant, sample_arms(min_n=0, min_sd=0.0))


def any_proportion_stats() -> st.SearchStrategy[ProportionStats]:
    """Any valid proportion arm: n = 0, no successes, all successes included."""
    return st.integers(min_value=0, max_value=10**6).flatmap(
        lambda n: (
            st.sampled_from([0, n, n // 2, min(1, n)]).map(lambda s: ProportionStats(n, s))
            | st.integers(min_value=0, max_value=n).map(lambda s: ProportionStats(n, s))
        )
    )


def is_finite_or_none(value: float | None) -> bool:
    """``None`` or a finite number (never NaN, never infinite)."""
    return value is None or math.isfinite(value)
