"""What changed between two flag versions: a line diff of their canonical JSON (pure)."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["DiffLine", "definition_diff"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DiffLine:
    """One line of a diff: ``kind`` is ``added``, ``removed``, ``context`` or ``hunk``."""

    kind: str
    text: str


_KINDS = {"+": "added", "-": "removed", "@": "hunk", " ": "context"}


def definition_diff(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> list[DiffLine]:
    """The lines that differ (with two lines of context), ``None`` being no flag at all."""
    old, new = _lines(before), _lines(after)
    diff = difflib.unified_diff(old, new, lineterm="", n=2)
    lines = []
    for text in diff:
        if text.startswith(("---", "+++")):
            continue
        lines.append(DiffLine(kind=_KINDS.get(text[:1], "context"), text=text))
    return lines


def _lines(definition: Mapping[str, Any] | None) -> list[str]:
    if definition is None:
        return []
    return json.dumps(definition, indent=2, sort_keys=True, default=str).splitlines()
