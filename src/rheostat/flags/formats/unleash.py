"""The Unleash format: import Unleash client-API documents and delta events.

The implementation lives in ``rheostat.flags.unleash``; this module is the seam that
``FlagSet.from_unleash`` and ``FlagSet.apply_unleash_delta`` call.
"""

from rheostat.flags.unleash import apply_delta, compile_unleash

__all__ = ["apply_delta", "compile_unleash"]
