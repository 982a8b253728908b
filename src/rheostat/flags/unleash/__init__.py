"""Unleash compatibility: import an Unleash client-API document and evaluate it as Unleash does.

``compile_unleash`` turns a features document (version 1 or 2, or delta-API events) into
compiled flags plus a canonical document; ``apply_delta`` applies delta-API events to such a
canonical document. Evaluation reproduces Unleash's own engine (Yggdrasil) exactly, bucketing
included, so users keep their groups when a team moves over. Where Unleash draws a random
number, we derive one from the context instead (see ``fields.random_stand_in``).
"""

from rheostat.flags.unleash.delta import apply_delta
from rheostat.flags.unleash.document import compile_unleash

__all__ = ["apply_delta", "compile_unleash"]
