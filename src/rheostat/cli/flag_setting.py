"""What ``rheostat flags set`` writes: edit the flag under the environment's lock, or create it.

Without ``--expected-version`` the change is a pure edit run by ``service.edit_flag``, which
locks the environment before it reads the flag: concurrent ``flags set`` commands apply one
after the other and none fails with "changed since it was read". Only a caller who names the
version they read (``--expected-version``) can get ``Conflict``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rheostat import service
from rheostat.errors import NotFound, ValidationError
from rheostat.service import FlagRecord

__all__ = ["FlagSetting", "write_flag_setting"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FlagSetting:
    """The command's options: a definition (``--file``/``--definition``) and a description."""

    definition: Mapping[str, Any] | None = None
    description: str | None = None

    def new_definition(self) -> dict[str, Any]:
        """The definition of a flag created with these options."""
        return {**(self.definition or {}), **self._described()}

    def edited(self, current: Mapping[str, Any], *, where: str) -> dict[str, Any]:
        """A pure edit: ``current`` replaced by the definition given, then described.

        Raises:
            ValidationError: neither a definition nor a description is given.
        """
        if self.definition is None and self.description is None:
            raise ValidationError(f"{where}: pass --file, --definition or --description")
        return {**(self.definition or current), **self._described()}

    def _described(self) -> dict[str, Any]:
        return {} if self.description is None else {"description": self.description}


def write_flag_setting(
    uow: service.UnitOfWork,
    environment: str,
    key: str,
    setting: FlagSetting,
    *,
    change: service.Change,
) -> tuple[FlagRecord, bool]:
    """Change flag ``key`` as ``setting`` says, or create it; return it and whether it is new.

    A missing flag is created only when ``change`` names no version: whoever names one read
    a flag that exists.

    Raises:
        NotFound (environment; the flag, with an expected version), Conflict (stale expected
        version), ValidationError, InvalidDefinition, AlreadyExists (never without an
        expected version: the environment stays locked from the edit to the create).
    """
    where = f"flag {key!r} exists in {environment}"
    try:
        edited = service.edit_flag(
            uow,
            environment,
            key,
            lambda current: setting.edited(current, where=where),
            change=change,
        )
    except NotFound as error:
        if change.expected_version is not None or error.details.get("flag") != key:
            raise
    else:
        return edited, False
    created = service.create_flag(uow, environment, key, setting.new_definition(), change=change)
    return created, True
