"""Where the CLI writes: Rich renderables and JSON to stdout, errors to stderr.

Commands build what to show with the pure ``render.format_*`` functions and hand it here;
``--json`` output is the service's values made JSON-ready by ``to_json_data``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any

from rich.console import Console, RenderableType
from rich.text import Text

__all__ = ["print_error", "print_json", "show", "to_json_data"]


def show(*renderables: RenderableType) -> None:
    """Print Rich renderables to stdout."""
    console = Console(highlight=False)
    for renderable in renderables:
        console.print(renderable)


def print_json(data: Any) -> None:
    """Print ``data`` (service values welcome) as indented JSON on stdout."""
    Console(highlight=False).out(json.dumps(to_json_data(data), indent=2, ensure_ascii=False))


def print_error(message: str) -> None:
    """Print one red line on stderr (never a traceback)."""
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    console.print(Text(f"error: {message}", style="bold red"))


def to_json_data(value: Any) -> Any:
    """Convert dataclasses, mappings, sequences, enums and datetimes into JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return {field.name: to_json_data(getattr(value, field.name)) for field in fields}
    if isinstance(value, Mapping):
        return {str(key): to_json_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json_data(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    return value
