"""Reading definitions from ``--file`` and ``--definition``."""

from __future__ import annotations

from pathlib import Path

import pytest

from rheostat.cli.documents import flag_definition, read_document, render_document
from rheostat.errors import ValidationError


def test_an_inline_definition_is_json_or_yaml() -> None:
    # Given / When inline JSON and YAML definitions are read / Then both give the mapping
    assert flag_definition("f", file=None, inline='{"enabled": false}') == {"enabled": False}
    assert flag_definition("f", file=None, inline="enabled: false") == {"enabled": False}


def test_no_definition_is_none() -> None:
    # Given / When / Then
    assert flag_definition("f", file=None, inline=None) is None


def test_a_file_may_hold_a_whole_document(tmp_path: Path) -> None:
    # Given a document with two flags
    file = tmp_path / "flags.yaml"
    file.write_text("flags:\n  a: {enabled: false}\n  b: {description: B}\n", encoding="utf-8")

    # When flag b is read from it / Then only b's definition comes back
    assert flag_definition("b", file=file, inline=None) == {"description": "B"}


def test_a_document_without_the_flag_is_refused(tmp_path: Path) -> None:
    # Given a document without flag c
    file = tmp_path / "flags.yaml"
    file.write_text("flags:\n  a: {}\n", encoding="utf-8")

    # When / Then the error names the file and the flag
    with pytest.raises(ValidationError, match=r"flags.yaml: the document has no flag 'c'"):
        flag_definition("c", file=file, inline=None)


def test_both_sources_at_once_are_refused(tmp_path: Path) -> None:
    # Given / When / Then
    with pytest.raises(ValidationError, match="not both"):
        flag_definition("f", file=tmp_path / "x.yaml", inline="{}")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2]", "expected a mapping, got list"),
        ("a: [unclosed", "not valid YAML or JSON"),
    ],
)
def test_bad_inline_text_is_refused_in_one_line(text: str, message: str) -> None:
    # Given / When bad text is read
    with pytest.raises(ValidationError, match=message) as raised:
        flag_definition("f", file=None, inline=text)

    # Then the message names the option and fits on one line
    assert raised.value.message.startswith("--definition: ")
    assert "\n" not in raised.value.message


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    # Given / When / Then
    with pytest.raises(ValidationError, match=r"missing.yaml: cannot read the file"):
        read_document(tmp_path / "missing.yaml")


def test_documents_render_as_yaml_or_json() -> None:
    # Given a document
    document = {"version": 1, "flags": {"a": {"enabled": False}}}

    # When / Then it renders in either format
    assert render_document(document, as_json=False).startswith("version: 1\nflags:")
    assert render_document(document, as_json=True).startswith('{\n  "version": 1,')


def test_a_file_that_is_not_utf8_is_refused_naming_the_byte(tmp_path: Path) -> None:
    # Given a file whose fourth byte cannot start a UTF-8 character
    file = tmp_path / "flags.yaml"
    file.write_bytes(b"a: \x80\n")

    # When / Then the refusal names the file, the byte and its offset
    with pytest.raises(
        ValidationError, match=r"flags.yaml is not UTF-8 text \(invalid byte 0x80 at offset 3\)"
    ):
        read_document(file)
