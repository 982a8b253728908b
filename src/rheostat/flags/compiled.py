"""The seam between flag formats and the engine.

A format (native, Unleash) compiles its definitions into objects that satisfy ``CompiledFlag``;
``FlagSet`` only looks flags up and calls them. Everything that does not depend on the context
is computed at compile time, so these methods do as little as possible per call.

Contract for implementers: the three evaluation methods never raise for any ``Context``;
``FlagSet`` still guards them, but a raise there is a bug (strict mode re-raises it in tests).
"""

from __future__ import annotations

from typing import Any, Protocol

from rheostat.flags.model import Context, Evaluation, Variant

__all__ = ["CompiledFlag"]


class CompiledFlag(Protocol):
    """One flag, ready to evaluate."""

    @property
    def key(self) -> str:
        """The flag key."""
        ...

    @property
    def version(self) -> int | None:
        """The flag version, when the document carries one."""
        ...

    def evaluate(self, context: Context, default: Any) -> Evaluation:
        """Return the full evaluation; on a type mismatch with ``default``, return it instead."""
        ...

    def is_enabled(self, context: Context) -> bool:
        """Return whether the flag is on for ``context``."""
        ...

    def variant(self, context: Context) -> Variant:
        """Return the variant served to ``context``."""
        ...
