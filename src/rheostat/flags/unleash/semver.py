"""Strict SemVer 2.0.0 versions, ordered as Unleash's engine orders them.

Parsing is strict (no leading ``v``, no leading zeros, three numeric parts). Precedence is
SemVer's: a pre-release sorts before its release, identifiers compare numerically when both
are numeric, numeric before alphanumeric, and a shorter identifier list first. Like the Rust
``semver`` crate that Unleash's engine uses, build metadata takes part in equality and breaks
ties last (no build sorts first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["SemVer", "parse_semver"]

_NUMBER = r"0|[1-9][0-9]*"
_PRE_IDENTIFIER = r"0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*"
_SEMVER = re.compile(
    rf"({_NUMBER})\.({_NUMBER})\.({_NUMBER})"
    rf"(?:-((?:{_PRE_IDENTIFIER})(?:\.(?:{_PRE_IDENTIFIER}))*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
)

_Identifier = tuple[int, int, str]
"""(0, number, "") for a numeric identifier, (1, 0, text) for an alphanumeric one."""


@dataclass(frozen=True, slots=True, order=True)
class SemVer:
    """A parsed version; compare instances with the usual operators."""

    release: tuple[int, int, int]
    pre: tuple[int, tuple[_Identifier, ...]]  # (0, ids) for a pre-release; (1, ()) for none
    build: tuple[_Identifier, ...]


def parse_semver(text: str) -> SemVer | None:
    """Return the version ``text`` names, or None if it is not strict SemVer."""
    match = _SEMVER.fullmatch(text)
    if match is None:
        return None
    major, minor, patch, pre, build = match.groups()
    return SemVer(
        release=(int(major), int(minor), int(patch)),
        pre=(0, _identifiers(pre)) if pre else (1, ()),
        build=_identifiers(build) if build else (),
    )


def _identifiers(text: str) -> tuple[_Identifier, ...]:
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in text.split("."))
