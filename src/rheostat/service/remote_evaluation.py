"""Evaluation on the server, for clients that do not evaluate locally (OFREP, ``/client/evaluate``).

The environment's snapshot (``SnapshotCache``) is compiled into a ``FlagSet`` once per
document, not once per request: ``FlagSetCache`` keeps the compiled set of each environment
and recompiles only when the snapshot's ETag moves. A request then costs the snapshot's
revision read (one indexed row) and the evaluations themselves.

Answers are the engine's own (``FlagSet.evaluate``): never an exception, reasons and error
codes in OpenFeature's words. One OpenFeature rule is added for remote callers that ask for it
(``targeting_key_required``): a flag that buckets by the targeting key (an enabled flag with a
split ``by: key``) answers ``TARGETING_KEY_MISSING`` to a context without one, instead of
silently skipping the split as the local engine does for an anonymous context.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rheostat.errors import ConfigurationError, InvalidDefinition
from rheostat.flags import Context, FlagSet
from rheostat.flags.formats.native import parse_document
from rheostat.flags.model import ErrorCode, Evaluation, Reason, Split
from rheostat.service.snapshots import Snapshot

__all__ = [
    "CompiledSnapshot",
    "FlagResult",
    "FlagSetCache",
    "compile_snapshot",
    "evaluate_flag",
    "evaluate_flags",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class CompiledSnapshot:
    """An environment's snapshot, compiled and ready to evaluate.

    Attributes:
        flags: the compiled set.
        keyed_flags: flags that bucket by the targeting key (enabled, with a split by ``key``).
    """

    environment: str
    revision: int
    etag: str
    flags: FlagSet
    keyed_flags: frozenset[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class FlagResult:
    """One flag's answer to one context.

    Attributes:
        value: the variant's value; None when ``error_code`` is set.
        variant: the variant's name; None when ``error_code`` is set.
        reason: the engine's reason (``ERROR`` with ``error_code``).
        message: what went wrong, for people; empty on success.
        version: the flag version evaluated, when the flag exists.
    """

    key: str
    value: Any
    variant: str | None
    reason: Reason
    error_code: ErrorCode | None = None
    message: str = ""
    version: int | None = None


def compile_snapshot(snapshot: Snapshot) -> CompiledSnapshot:
    """Compile ``snapshot``'s document.

    Raises:
        ConfigurationError: the stored document does not compile (every definition is
            validated when written, so this is a broken database, not a caller's mistake).
    """
    try:
        flags = FlagSet.from_dict(snapshot.document)
        parsed, _ = parse_document(snapshot.document)
    except InvalidDefinition as error:
        raise ConfigurationError(
            f"environment {snapshot.environment!r}: the stored flags do not compile: {error}"
        ) from error
    keyed = frozenset(
        key
        for key, flag in parsed.items()
        if flag.enabled
        and any(isinstance(rule.serve, Split) and rule.serve.by == "key" for rule in flag.rules)
    )
    return CompiledSnapshot(
        environment=snapshot.environment,
        revision=snapshot.revision,
        etag=snapshot.etag,
        flags=flags,
        keyed_flags=keyed,
    )


class FlagSetCache:
    """The compiled snapshot of each environment, recompiled only when its ETag moves.

    Safe to share between threads (one per server process); two threads compiling the same
    new snapshot at once both get a correct set, and one of them is kept.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._compiled: dict[str, CompiledSnapshot] = {}

    def compiled(self, snapshot: Snapshot) -> CompiledSnapshot:
        """Return ``snapshot`` compiled (from the cache when its document is unchanged)."""
        cached = self._compiled.get(snapshot.environment)
        if cached is not None and cached.etag == snapshot.etag:
            if cached.revision == snapshot.revision:
                return cached
            # the same document at another revision (a change and its undo): no recompiling
            taken = _with_revision(cached, snapshot.revision)
        else:
            taken = compile_snapshot(snapshot)
        with self._lock:
            newest = self._compiled.get(snapshot.environment)
            if newest is None or newest.revision <= taken.revision:
                self._compiled[snapshot.environment] = taken
        return taken


def _with_revision(compiled: CompiledSnapshot, revision: int) -> CompiledSnapshot:
    return CompiledSnapshot(
        environment=compiled.environment,
        revision=revision,
        etag=compiled.etag,
        flags=compiled.flags,
        keyed_flags=compiled.keyed_flags,
    )


def evaluate_flag(
    compiled: CompiledSnapshot,
    key: str,
    context: Context,
    *,
    targeting_key_required: bool = False,
) -> FlagResult:
    """Evaluate one flag for ``context``; never raises.

    An unknown flag answers ``FLAG_NOT_FOUND``. With ``targeting_key_required``, a flag in
    ``compiled.keyed_flags`` answers ``TARGETING_KEY_MISSING`` to a context without a key.
    """
    if targeting_key_required and not context.key and key in compiled.keyed_flags:
        return FlagResult(
            key=key,
            value=None,
            variant=None,
            reason=Reason.ERROR,
            error_code=ErrorCode.TARGETING_KEY_MISSING,
            message=f"flag {key!r} buckets by the targeting key; the context has none",
            version=compiled.flags.evaluate(key, context).version,
        )
    return _result(key, compiled.flags.evaluate(key, context))


def evaluate_flags(
    compiled: CompiledSnapshot,
    context: Context,
    keys: Iterable[str] | None = None,
    *,
    targeting_key_required: bool = False,
) -> list[FlagResult]:
    """Evaluate ``keys`` (every flag, sorted, when None) for ``context``; never raises."""
    chosen = compiled.flags.keys() if keys is None else keys
    return [
        evaluate_flag(compiled, key, context, targeting_key_required=targeting_key_required)
        for key in chosen
    ]


_MESSAGES: Mapping[ErrorCode, str] = {
    ErrorCode.FLAG_NOT_FOUND: "flag {key!r} was not found",
    ErrorCode.INVALID_CONTEXT: "the context is not valid",
    ErrorCode.GENERAL: "evaluating flag {key!r} failed on the server",
}


def _result(key: str, evaluation: Evaluation) -> FlagResult:
    code = evaluation.error_code
    if code is None:
        return FlagResult(
            key=key,
            value=evaluation.value,
            variant=evaluation.variant,
            reason=evaluation.reason,
            version=evaluation.version,
        )
    return FlagResult(
        key=key,
        value=None,
        variant=None,
        reason=Reason.ERROR,
        error_code=code,
        message=_MESSAGES.get(code, "{key!r}: " + code.value).format(key=key),
        version=evaluation.version,
    )
