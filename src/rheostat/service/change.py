"""``Change``: who changes something, why, and which version they read.

Every service that changes state takes one, keyword-only: ``change=Change(actor="ops",
reason="5xx up", expected_version=3)``. It is checked when it is built, so a service never sees
an empty actor or a version that is not a version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rheostat.errors import Conflict, ValidationError
from rheostat.inputs import MAX_VERSION, validate_actor, validate_number

__all__ = ["Change", "refuse_stale", "required_version"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """The audit facts of one change, and its optimistic-concurrency precondition.

    Attributes:
        actor: who asks (a user, ``api_key:<id>``, ``controller``); recorded in the audit log.
        reason: why, in their words; recorded with the change.
        expected_version: the version of the subject the caller read. When given, a change to
            a subject now at another version raises ``Conflict`` and changes nothing. When
            ``None`` the change applies to the newest version inside the transaction (targeted
            changes that keep the rest as stored); replacements and restores require it.

    Raises:
        ValidationError: an empty or oversized actor, a reason that is not text, or an
            ``expected_version`` that is not a non-negative 32-bit integer (``True`` is not 1).
    """

    actor: str
    reason: str | None = None
    expected_version: int | None = None

    def __post_init__(self) -> None:
        validate_actor(self.actor, self.reason)
        if self.expected_version is not None:
            validate_number(
                self.expected_version, "expected_version", minimum=0, maximum=MAX_VERSION
            )

    def required_version(self) -> int:
        """Return ``expected_version``; a replacement must name the version it read.

        Raises:
            ValidationError: it is ``None``.
        """
        return required_version(self.expected_version)

    def with_reason(self, default: str) -> Change:
        """This change, with ``default`` as its reason when it gives none."""
        if self.reason:
            return self
        return Change(actor=self.actor, reason=default, expected_version=self.expected_version)


def required_version(expected: object) -> int:
    """Return ``expected`` if it names a version: replacements and restores must name one.

    Raises:
        ValidationError: ``None`` or not a version number (``field``: ``expected_version``).
    """
    if expected is None:
        raise ValidationError(
            "expected_version is required: name the version you read, so that a change made"
            " since is not overwritten unseen",
            details={"field": "expected_version"},
        )
    return validate_number(expected, "expected_version", minimum=0, maximum=MAX_VERSION)


def refuse_stale(kind: str, subject: Mapping[str, str], expected: int | None, current: int) -> None:
    """Raise ``Conflict`` when ``expected`` is given and is not ``current``.

    Args:
        kind: ``flag``, ``segment`` or ``environment`` (for the message).
        subject: identifying fields for the message and ``details``.
    """
    if expected is None:
        return
    validate_number(expected, "expected_version", minimum=0, maximum=MAX_VERSION)
    if expected == current:
        return
    named = ", ".join(f"{field} {value!r}" for field, value in subject.items())
    raise Conflict(
        f"{kind} ({named}) is at version {current}, not {expected}: it changed since it was"
        " read; read it again and reapply the change",
        details={**subject, "expected_version": expected, "current_version": current},
    )
