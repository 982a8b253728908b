"""``FlagSet``: an immutable, compiled snapshot of one environment's flags; it evaluates.

Evaluation never raises. An unknown flag returns the caller's default with ``FLAG_NOT_FOUND``;
a bug inside a compiled flag is logged and answered with the default and ``GENERAL`` (tests turn
on ``FlagSet.strict`` to re-raise it instead).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import yaml

from rheostat.errors import InvalidDefinition
from rheostat.flags.compiled import CompiledFlag
from rheostat.flags.formats.native import compile_document
from rheostat.flags.formats.unleash import apply_delta, compile_unleash
from rheostat.flags.model import Context, ErrorCode, Evaluation, Reason, Variant
from rheostat.flags.overrides import OverriddenFlag, overrides_from_environment

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
        self._is_enabled_by_key = {key: flag.is_enabled for key, flag in self._flags.items()}

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
        """Read a YAML or JSON file and build a set from it (``from_dict``)."""
        return cls.from_dict(read_document(path))

    def apply_unleash_delta(self, events: Any) -> FlagSet:
        """Return a new set with Unleash delta-API events applied to an Unleash-imported set."""
        return FlagSet.from_unleash(apply_delta(self._document, events))

    def with_overrides(self, environment: Mapping[str, str]) -> FlagSet:
        """Return a set where ``RHEOSTAT_KILL_*`` / ``RHEOSTAT_FLAG_*`` variables force answers.

        ``environment`` is passed in (usually ``os.environ``); see ``rheostat.flags.overrides``.

        Raises:
            ConfigurationError: an override names a variant the flag does not have.
        """
        definitions = self._document.get("flags", {})
        flags: dict[str, CompiledFlag] = dict(self._flags)
        for override in overrides_from_environment(environment, list(definitions)):
            flags[override.flag] = OverriddenFlag(
                flags[override.flag], override, definitions[override.flag]
            )
        return FlagSet(flags, self._document)

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

    def evaluate(self, key: str, context: Context, default: Any = None) -> Evaluation:
        """Evaluate ``key`` for ``context``; never raises (see the module docstring)."""
        flag = self._flags.get(key)
        if flag is None:
            return Evaluation(default, None, Reason.ERROR, ErrorCode.FLAG_NOT_FOUND)
        try:
            return flag.evaluate(context, default)
        except Exception:  # noqa: BLE001  # the one broad catch: evaluation must not raise
            _report(key)
            return Evaluation(default, None, Reason.ERROR, ErrorCode.GENERAL, flag.version)

    def is_enabled(self, key: str, context: Context, default: bool = False) -> bool:
        """Return whether ``key`` is on for ``context``; ``default`` if unknown. Never raises."""
        is_enabled = self._is_enabled_by_key.get(key)
        if is_enabled is None:
            return default
        try:
            return is_enabled(context)
        except Exception:  # noqa: BLE001  # the one broad catch: evaluation must not raise
            _report(key)
            return default

    def variant(self, key: str, context: Context) -> Variant:
        """Return the variant served to ``context``; ``disabled`` if unknown. Never raises."""
        flag = self._flags.get(key)
        if flag is None:
            return _DISABLED_VARIANT
        try:
            return flag.variant(context)
        except Exception:  # noqa: BLE001  # the one broad catch: evaluation must not raise
            _report(key)
            return _DISABLED_VARIANT


def _report(key: str) -> None:
    logger.exception("rheostat: evaluating flag %r failed; serving the default", key)
    if FlagSet.strict:
        raise


def read_document(path: str | Path) -> Any:
    """Parse a YAML or JSON flag file.

    Raises:
        InvalidDefinition: when the file cannot be read or parsed, naming the file.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidDefinition(str(file), f"cannot read the file ({error.strerror})") from error
    try:
        if file.suffix == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        raise InvalidDefinition(str(file), f"not valid YAML or JSON: {error}") from error
