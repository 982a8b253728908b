"""Semantic versions (semver.org 2.0.0 precedence), parsed once at load."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["SemVer", "parse_semver"]

_SEMVER = re.compile(
    r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?$"
)


@dataclass(frozen=True, slots=True, order=True)
class SemVer:
    """A version ordered by semver precedence (build metadata ignored)."""

    release: tuple[int, int, int]
    is_final: bool  # a version without pre-release outranks any pre-release of it
    prerelease: tuple[tuple[int, int | str], ...]


def _identifier(part: str) -> tuple[int, int | str]:
    # numeric identifiers rank below alphanumeric ones
    return (0, int(part)) if part.isdigit() else (1, part)


def parse_semver(text: str) -> SemVer | None:
    """Parse ``1.2.3-beta.1+build``; return None when ``text`` is not a semantic version."""
    match = _SEMVER.match(text.strip())
    if match is None:
        return None
    major, minor, patch, prerelease = match.groups()
    parts = tuple(_identifier(part) for part in prerelease.split(".")) if prerelease else ()
    return SemVer(
        release=(int(major), int(minor), int(patch)), is_final=not parts, prerelease=parts
    )
