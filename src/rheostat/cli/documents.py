"""Reading flag definitions and documents given on the command line (files or inline JSON)."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from rheostat.errors import ValidationError

__all__ = ["flag_definition", "read_document", "render_document", "write_document"]


STDIN = Path("-")
"""The path that names standard input."""


def read_document(path: Path) -> dict[str, Any]:
    """Parse a YAML or JSON file holding a mapping; ``-`` reads standard input.

    Raises:
        ValidationError: the file cannot be read, is not UTF-8 text, is not YAML/JSON, or is
            not a mapping.
    """
    where = "standard input" if path == STDIN else str(path)
    try:
        data = sys.stdin.buffer.read() if path == STDIN else path.read_bytes()
    except OSError as error:
        raise ValidationError(f"{where}: cannot read the file ({error.strerror})") from error
    return _parse_mapping(_utf8_text(data, where), where)


def _utf8_text(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValidationError(
            f"{where} is not UTF-8 text (invalid byte 0x{data[error.start]:02x}"
            f" at offset {error.start})",
            details={"offset": error.start},
        ) from error


def flag_definition(key: str, *, file: Path | None, inline: str | None) -> dict[str, Any] | None:
    """Return the definition given by ``--file`` or ``--definition``, ``None`` if neither.

    A file may hold the definition itself or a whole document (``flags: {key: ...}``).

    Raises:
        ValidationError: both sources given, unreadable input, or the document lacks ``key``.
    """
    if file is not None and inline is not None:
        raise ValidationError("give --file or --definition, not both")
    definition: dict[str, Any] | None = None
    if file is not None:
        definition = _select_flag(read_document(file), key, str(file))
    elif inline is not None:
        definition = _parse_mapping(inline, "--definition")
    return definition


def write_document(document: Mapping[str, Any], path: Path, *, as_json: bool) -> None:
    """Write a document as YAML (or JSON) to ``path``.

    Raises:
        ValidationError: the file cannot be written.
    """
    text = render_document(document, as_json=as_json)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise ValidationError(f"{path}: cannot write the file ({error.strerror})") from error


def render_document(document: Mapping[str, Any], *, as_json: bool) -> str:
    """Return the document as YAML, or as indented JSON."""
    if as_json:
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True)


def _select_flag(document: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    flags = document.get("flags")
    if not isinstance(flags, Mapping):
        return document
    if key not in flags or not isinstance(flags[key], Mapping):
        raise ValidationError(f"{where}: the document has no flag {key!r} under flags")
    return dict(flags[key])


def _parse_mapping(text: str, where: str) -> dict[str, Any]:
    try:
        value = yaml.safe_load(text)  # YAML is a superset of JSON
    except yaml.YAMLError as error:
        problem = " ".join(str(error).split())  # one line, however YAML formats it
        raise ValidationError(f"{where}: not valid YAML or JSON ({problem})") from error
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError(f"{where}: expected a mapping, got {type(value).__name__}")
    return dict(value)
