"""Release plans that run themselves: plan documents, gates, verdicts and the pure ``decide``.

Everything here is pure (values in, values out; no clock, database or network): the
controller (an edge) loads the state, asks the gates, calls ``decide`` and stores the result
in one transaction.
"""

from rheostat.rollout.gates import assess_outcome, assess_threshold
from rheostat.rollout.holdback import (
    assess_assignment,
    assess_holdback,
    holdback_settings,
    holdback_settings_by_gate,
)
from rheostat.rollout.measurements import ArmMeasurement, ArmStats, Measurement, Outcome
from rheostat.rollout.model import (
    ApprovalStage,
    BackfillStage,
    CallableGate,
    CheckGate,
    CheckStage,
    Gate,
    GateLimits,
    GateMode,
    HoldbackGate,
    HttpGate,
    InconclusivePolicy,
    MonitorStage,
    NoDataPolicy,
    OnFailure,
    Plan,
    RampStage,
    Stage,
    ThresholdGate,
    WaitUntilStage,
)
from rheostat.rollout.plans import load_plan, plan_from_dict, plan_from_text, plan_to_dict
from rheostat.rollout.templates import TEMPLATES, template
from rheostat.rollout.verdicts import GateVerdict, Verdict, worst_of

__all__ = [
    "TEMPLATES",
    "ApprovalStage",
    "ArmMeasurement",
    "ArmStats",
    "BackfillStage",
    "CallableGate",
    "CheckGate",
    "CheckStage",
    "Gate",
    "GateLimits",
    "GateMode",
    "GateVerdict",
    "HoldbackGate",
    "HttpGate",
    "InconclusivePolicy",
    "Measurement",
    "MonitorStage",
    "NoDataPolicy",
    "OnFailure",
    "Outcome",
    "Plan",
    "RampStage",
    "Stage",
    "ThresholdGate",
    "Verdict",
    "WaitUntilStage",
    "assess_assignment",
    "assess_holdback",
    "assess_outcome",
    "assess_threshold",
    "holdback_settings",
    "holdback_settings_by_gate",
    "load_plan",
    "plan_from_dict",
    "plan_from_text",
    "plan_to_dict",
    "template",
    "worst_of",
]
