"""Kill switches for web frameworks: gate an endpoint behind a flag in one line.

The framework adapters (``rheostat.integrations.fastapi``, ``.flask``, ``.django``) share what
is here: ``FlagGate`` decides whether a request may pass (building the rheostat ``Context``
from the request and never raising), ``disabled_body`` is the 503 body in the project's one
error shape, and ``kill_switch_health`` is the ``kill_switches`` part of an app's ``/health``.
Importing this package imports no web framework.
"""

from rheostat.integrations.gate import (
    FLAG_DISABLED,
    ContextBuilder,
    FlagGate,
    RequestFacts,
    disabled_body,
    kill_switch_health,
    kill_switches,
)

__all__ = [
    "FLAG_DISABLED",
    "ContextBuilder",
    "FlagGate",
    "RequestFacts",
    "disabled_body",
    "kill_switch_health",
    "kill_switches",
]
