"""Statistics for guarded rollouts and experiments, from per-arm sufficient statistics.

Pure: numpy and scipy only, no I/O, clock or randomness. Data never raise: too little or
degenerate data give an inconclusive result with a reason and ``None`` estimates (never NaN).
Only bad configuration raises ``rheostat.errors.ValidationError``.
"""

from rheostat.stats.frequentist import compare_means, compare_proportions
from rheostat.stats.power import (
    guardrail_sample_size,
    guardrail_sample_size_proportions,
    minimum_detectable_effect,
    minimum_detectable_effect_proportions,
    sample_size,
    sample_size_proportions,
)
from rheostat.stats.results import (
    Alternative,
    Caveat,
    Comparison,
    GuardStatus,
    GuardVerdict,
    Significance,
    SRMResult,
    Worse,
)
from rheostat.stats.sequential import (
    GuardSettings,
    always_valid_p_value,
    assess_guard,
    compare_sequential,
    one_sided_boundary,
    sequential_guard,
    two_sided_boundary,
)
from rheostat.stats.srm import sequential_srm_test, srm_test
from rheostat.stats.sufficient import ProportionStats, SampleStats

__all__ = [
    "Alternative",
    "Caveat",
    "Comparison",
    "GuardSettings",
    "GuardStatus",
    "GuardVerdict",
    "ProportionStats",
    "SRMResult",
    "SampleStats",
    "Significance",
    "Worse",
    "always_valid_p_value",
    "assess_guard",
    "compare_means",
    "compare_proportions",
    "compare_sequential",
    "guardrail_sample_size",
    "guardrail_sample_size_proportions",
    "minimum_detectable_effect",
    "minimum_detectable_effect_proportions",
    "one_sided_boundary",
    "sample_size",
    "sample_size_proportions",
    "sequential_guard",
    "sequential_srm_test",
    "srm_test",
    "two_sided_boundary",
]
