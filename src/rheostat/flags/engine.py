"""``FlagSet``: an immutable, compiled snapshot of one environment's flags; it evaluates.

Evaluation never raises and never prints. An unknown flag returns the caller's default with
``FLAG_NOT_FOUND``. The context is a ``Context``, or a plain ``str`` taken as ``Context(key=...)``;
anything else (None, a number, a dict...) returns the caller's default with ``INVALID_CONTEXT``
and is logged at DEBUG level once per type. A bug inside a compiled flag is logged and answered
with the default and ``GENERAL`` (tests turn on ``FlagSet.strict`` to re-raise it instead).
"""

from __future__ import annotations

import functools
import json
import logging
import operator
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import yaml

from rheostat.errors import ConfigurationError, InvalidDefinition
from rheostat.flags.compiled import CompiledFlag
from rheostat.flags.formats.native import compile_document
from rheostat.flags.formats.unleash import apply_delta, compile_unleash
from rheostat.flags.model import Context, ErrorCode, Evaluation, Reason, Variant, context_of_key
from rheostat.flags.overrides import (
    KilledFlag,
    Override,
    environment_name,
    forced_variants,
    overrides_from_environment,
)

__all__ = ["FlagSet"]

logger = logging.getLogger("rheostat.flags")

_DISABLED_VARIANT = Variant(name="disabled", enabled=False, feature_enabled=False)


class FlagSet:
    """All flags of one environment, validated and compiled; safe to share between threads."""

    __slots__ = ("_document", "_flags", "_is_enabled_by_key")

    strict: ClassVar[bool] = False
    """Re-raise internal errors instead of answering with the default (for tests)."""

    def __init__(self, flags: Mapping[str, CompiledFlag], document: Mapping[str, Any]) -> None:
        """Wrap compiled flags; use ``from_dict``, ``load`` or ``from_unleash`` instead."""
        self._flags: dict[str, CompiledFlag] = dict(flags)
        self._document = document
        # Bound methods looked up once: the hot path is one dict lookup and one call.
        self._is_enabled_by_key = {key: _is_enabled_of(flag) for key, flag in self._flags.items()}

    # Building ---------------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> FlagSet:
        """Validate and compile a native document (or one that ``to_dict`` produced).

        Raises:
            InvalidDefinition: naming the path of the first bad field; nothing is half-loaded.
        """
        if not isinstance(document, Mapping):
            raise InvalidDefinition("", "a flag document must be a mapping")
        if document.get("format") == "unleash":
            return cls.from_unleash(document)
        flags, canonical = compile_document(document)
        return cls(flags, canonical)

    @classmethod
    def from_unleash(cls, document: Mapping[str, Any]) -> FlagSet:
        """Import an Unleash client-API features document (or a delta hydration event).

        Imported flags keep Unleash's own bucketing, so every user stays in the same group.
        """
        flags, canonical = compile_unleash(document)
        return cls(flags, canonical)

    @classmethod
    def load(cls, path: str | Path) -> FlagSet:
        """Read a YAML or JSON file (UTF-8) and build a set from it (``from_dict``).

        Raises:
            InvalidDefinition: naming the file when it cannot be read, is not UTF-8 (with the
                byte offset) or does not parse; naming the field when a definition is bad.
        """
        return cls.from_dict(read_document(path))

    def apply_unleash_delta(self, events: Any) -> FlagSet:
        """Return a new set with Unleash delta-API events applied to an Unleash-imported set."""
        return FlagSet.from_unleash(apply_delta(self._document, events))

    def with_overrides(self, environment: Mapping[str, str]) -> FlagSet:
        """Return a set where ``RHEOSTAT_KILL_*``, ``_FLAG_*`` and ``_ROLLOUT_*`` force answers.

        ``environment`` is passed in (usually ``os.environ``); see ``rheostat.flags.overrides``
        (for one flag: kill > forced variant > rollout). Native flags are recompiled, so
        dependents of a killed flag see it off.

        Raises:
            ConfigurationError: naming the variable, when an override names an unknown
                variant, rolls out a flag that is not on/off or by a value that is not a
                percentage in [0, 100], matches two flags, or forces a variant or a rollout of
                an Unleash-imported flag (only kills apply there).
        """
        found = overrides_from_environment(environment, self._flags)
        if not found:
            return self
        if self._document.get("format") == "unleash":
            return FlagSet(self._kill_imported(found), self._document)
        forced = forced_variants(found, self._document["flags"])
        flags, _ = compile_document(self._document, overrides=forced)
        return FlagSet(flags, self._document)

    def _kill_imported(self, found: list[Override]) -> dict[str, CompiledFlag]:
        flags = dict(self._flags)
        for override in found:
            if not override.is_kill:
                raise ConfigurationError(
                    f"{override.variable}: Unleash-imported flags can only be killed"
                    f" (use RHEOSTAT_KILL_{environment_name(override.flag)}=1)"
                )
            flags[override.flag] = KilledFlag(flags[override.flag])
        return flags

    # Reading ----------------------------------------------------------------------------------

    def keys(self) -> list[str]:
        """Return the flag keys, sorted."""
        return sorted(self._flags)

    def __contains__(self, key: object) -> bool:
        return key in self._flags

    def __len__(self) -> int:
        return len(self._flags)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def to_dict(self) -> dict[str, Any]:
        """Return the canonical document; ``FlagSet.from_dict(fs.to_dict())`` rebuilds ``fs``."""
        return json.loads(json.dumps(self._document))  # type: ignore[no-any-return]

    # Evaluating -------------------------------------------------------------------------------

    # The exact-class test keeps the ``Context`` path to one identity check; a ``str``, a
    # ``Context`` subclass or a wrong type takes the slower ``_as_context`` path.

    def evaluate(self, key: str, context: Context | str, default: Any = None) -> Evaluation:
        """Evaluate ``key`` for ``context``; never raises (see the module docstring).

        ``context`` is a ``Context`` or a ``str`` (the key). On error the caller's ``default``
        comes back with reason ``ERROR`` and a code: ``FLAG_NOT_FOUND`` for an unknown flag,
        ``INVALID_CONTEXT`` for a context of another type, ``TYPE_MISMATCH`` for a ``default``
        of another type than the flag's.
        """
        try:
            flag = self._flags.get(key)
            if flag is None:
                return Evaluation(default, None, Reason.ERROR, ErrorCode.FLAG_NOT_FOUND)
            if context.__class__ is Context:
                return flag.evaluate(context, default)
            checked = _as_context(context)
            if checked is None:
                return Evaluation(
                    default, None, Reason.ERROR, ErrorCode.INVALID_CONTEXT, flag.version
                )
            return flag.evaluate(checked, default)
        except Exception:  # noqa: BLE001  # the one broad catch: evaluation must not raise
            _report(key)
            return Evaluation(default, None, Reason.ERROR, ErrorCode.GENERAL)

    def is_enabled(self, key: str, context: Context | str, default: bool = False) -> bool:
        """Return whether ``key`` is on for ``context``. Never raises.

        ``context`` is a ``Context`` or a ``str`` (the key). ``default`` comes back for an
        unknown flag or a context of another type.
        """
        try:
            try:
                # A subscript, not .get(): it pays for the context check on the hottest path;
                # an unknown flag costs an exception instead, and is still answered.
                is_enabled = self._is_enabled_by_key[key]
            except KeyError:
                return default
            if context.__class__ is Context:
                return is_enabled(context)
            checked = _as_context(context)
            return default if checked is None else is_enabled(checked)
        except Exception:  # noqa: BLE001  # the one broad catch: evaluation must not raise
            _report(key)
            return default

    def variant(self, key: str, context: Context | str) -> Variant:
        """Return the variant served to ``context``. Never raises.

        ``context`` is a ``Context`` or a ``str`` (the key). The ``disabled`` variant comes
        back for an unknown flag or a context of another type.
        """
        try:
            flag = self._flags.get(key)
            if flag is None:
                return _DISABLED_VARIANT
            if context.__class__ is Context:
                return flag.variant(context)
            checked = _as_context(context)
            return _DISABLED_VARIANT if checked is None else flag.variant(checked)
        except Exception:  # noqa: BLE001  # the one broad catch: evaluation must not raise
            _report(key)
            return _DISABLED_VARIANT


def _as_context(context: object) -> Context | None:
    """Return ``context`` as a ``Context``: a ``str`` is the key; None for any other type.

    A wrong type is logged at DEBUG level, once per type, never per call.
    """
    if context.__class__ is str:
        return context_of_key(context)
    if isinstance(context, Context):
        return context
    if isinstance(context, str):
        return context_of_key(str(context))  # str() turns a StrEnum member into its plain value
    _log_invalid_context(f"{type(context).__module__}.{type(context).__qualname__}")
    return None


@functools.cache
def _log_invalid_context(type_name: str) -> None:
    # Cached, so each type is logged once: a caller passing None in a loop must not flood logs.
    logger.debug(
        "rheostat: a context must be a Context or a str, not %s; serving the default"
        " (INVALID_CONTEXT). Logged once per type.",
        type_name,
    )


def _is_enabled_of(flag: CompiledFlag) -> Callable[[Context], bool]:
    """Return the fastest callable answering ``is_enabled`` for ``flag``.

    A flag that answers the same to everyone is served by a C builtin: ``bool(context)`` is
    True and ``not_(context)`` is False for any ``Context`` (it defines no ``__bool__`` or
    ``__len__``), which saves a Python call on the hottest path there is. ``FlagSet`` calls it
    with ``Context`` instances only (a ``str`` is wrapped first, other types never get here).
    """
    constant = getattr(flag, "constant_enabled", None)
    if constant is None:
        return flag.is_enabled
    return bool if constant else operator.not_


def _report(key: object) -> None:
    logger.exception("rheostat: evaluating flag %r failed; serving the default", key)
    if FlagSet.strict:
        raise


def read_document(path: str | Path) -> Any:
    """Parse a YAML or JSON flag file (UTF-8).

    Raises:
        InvalidDefinition: when the file cannot be read, is not UTF-8 text (naming the byte
            offset) or cannot be parsed; the message names the file.
    """
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as error:
        raise InvalidDefinition(str(file), f"cannot read the file ({error.strerror})") from error
    text = _decode(data, file)
    try:
        if file.suffix == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        raise InvalidDefinition(str(file), f"not valid YAML or JSON: {error}") from error


def _decode(data: bytes, file: Path) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise InvalidDefinition(
            str(file),
            f"not UTF-8 text: byte 0x{data[error.start]:02x} at byte offset {error.start}"
            f" (line {line}) cannot be decoded; save the file as UTF-8",
        ) from error
