"""Bad definitions are refused whole, with the path of the bad field and the reason."""

from __future__ import annotations

from typing import Any

import pytest

from rheostat import FlagSet, InvalidDefinition


def flag(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"variants": {"on": True, "off": False}, "default": "off"}
    body.update(fields)
    return {"version": 1, "flags": {"f": body}}


SPLIT_99 = [{"serve": {"split": {"on": 50, "off": 49}}}]
CASES = [
    (flag(rules=SPLIT_99), "flags.f.rules[0].serve.split", "sum to 99%"),
    (flag(rules=[{"serve": "maybe"}]), "flags.f.rules[0].serve", "unknown variant 'maybe'"),
    (flag(default="maybe"), "flags.f.default", "unknown variant"),
    (
        flag(rules=[{"when": [{"attribute": "a", "op": "like", "values": ["x"]}], "serve": "on"}]),
        "flags.f.rules[0].when[0].op",
        "unknown operator 'like'",
    ),
    (
        flag(
            rules=[{"when": [{"attribute": "a", "op": "matches", "values": ["("]}], "serve": "on"}]
        ),
        "flags.f.rules[0].when[0].values",
        "bad regular expression",
    ),
    (
        flag(
            rules=[
                {"when": [{"attribute": "a", "op": "in_segment", "values": ["x"]}], "serve": "on"}
            ]
        ),
        "flags.f.rules[0].when[0].values[0]",
        "unknown segment 'x'",
    ),
    (
        flag(
            rules=[
                {"when": [{"attribute": "v", "op": "semver_gt", "values": ["1.x"]}], "serve": "on"}
            ]
        ),
        "flags.f.rules[0].when[0].values",
        "not a semantic version",
    ),
    (
        flag(
            rules=[
                {
                    "when": [{"attribute": "ip", "op": "in_cidr", "values": ["10.0.0/8"]}],
                    "serve": "on",
                }
            ]
        ),
        "flags.f.rules[0].when[0].values",
        "not a CIDR block",
    ),
    (
        flag(rules=[{"when": [{"attribute": "n", "op": "lt", "values": [1, 2]}], "serve": "on"}]),
        "flags.f.rules[0].when[0].values",
        "exactly one value",
    ),
    (
        flag(
            rules=[
                {"when": [{"attribute": "d", "op": "before", "values": ["soon"]}], "serve": "on"}
            ]
        ),
        "flags.f.rules[0].when[0].values",
        "ISO-8601",
    ),
    (
        flag(rules=[{"serve": {"split": {"on": 12.3456, "off": 87.6544}}}]),
        "flags.f.rules[0].serve.split.on",
        "3 decimals",
    ),
    (
        flag(rules=[{"serve": {"split": {"on": -5, "off": 105}}}]),
        "flags.f.rules[0].serve.split.on",
        "in 0..100",
    ),
    (flag(rule=[]), "flags.f.rule", "unknown field"),
    (flag(enabled="yes"), "flags.f.enabled", "true or false"),
    (flag(type="boolean"), "flags.f.type", "unknown type 'boolean'"),
    (flag(type="string"), "flags.f.variants.on", "not of the flag's type string"),
    (
        flag(prerequisites=[{"flag": "ghost", "variants": ["on"]}]),
        "flags.f.prerequisites[0].flag",
        "unknown flag 'ghost'",
    ),
    (
        flag(targets=[{"variant": "on", "keys": "user-1"}]),
        "flags.f.targets[0].keys",
        "must be a list",
    ),
    (flag(hash_version=9), "flags.f.hash_version", "unknown hash version"),
    ({"version": 2}, "version", "unsupported document version"),
    ({"flags": {"has space": {}}}, "flags", "not a valid name"),
    ({"flags": []}, "flags", "must be a mapping"),
]


@pytest.mark.parametrize(
    ("document", "path", "reason"), CASES, ids=[c[1] + ":" + c[2] for c in CASES]
)
def test_a_bad_definition_names_its_path_and_reason(
    document: dict[str, Any], path: str, reason: str
) -> None:
    with pytest.raises(InvalidDefinition) as caught:
        FlagSet.from_dict(document)
    assert caught.value.path == path
    assert reason in caught.value.reason
    assert caught.value.code == "invalid_definition"
    assert str(caught.value).startswith(path)


def test_a_prerequisite_cycle_is_named() -> None:
    document = {
        "flags": {
            "a": {"default": "off", "prerequisites": [{"flag": "b", "variants": ["on"]}]},
            "b": {"default": "off", "prerequisites": [{"flag": "c", "variants": ["on"]}]},
            "c": {"default": "off", "prerequisites": [{"flag": "a", "variants": ["on"]}]},
        }
    }
    with pytest.raises(InvalidDefinition, match=r"prerequisite cycle: a -\> b -\> c -\> a"):
        FlagSet.from_dict(document)


def test_a_prerequisite_on_an_unknown_variant_is_refused() -> None:
    document = {
        "flags": {
            "parent": {"variants": {"x": 1, "y": 2}, "default": "x"},
            "child": {"default": "off", "prerequisites": [{"flag": "parent", "variants": ["z"]}]},
        }
    }
    with pytest.raises(InvalidDefinition, match="flag 'parent' has no variant 'z'"):
        FlagSet.from_dict(document)


def test_nothing_is_half_loaded() -> None:
    # Given a document whose last flag is bad
    document = {"flags": {"good": {"default": "on"}, "bad": {"default": "nope"}}}
    # Then the whole document is refused
    with pytest.raises(InvalidDefinition, match=r"flags\.bad\.default"):
        FlagSet.from_dict(document)


def test_a_missing_file_is_named(tmp_path: Any) -> None:
    with pytest.raises(InvalidDefinition, match="cannot read the file"):
        FlagSet.load(tmp_path / "absent.yaml")


def test_a_broken_file_is_named(tmp_path: Any) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("flags: [unclosed")
    with pytest.raises(InvalidDefinition, match="not valid YAML or JSON"):
        FlagSet.load(path)


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_a_file_that_is_not_utf8_is_named_with_the_byte_offset(tmp_path: Any, suffix: str) -> None:
    # Given a Latin-1 file: "é" is the lone byte 0xe9, at byte offset 24 on line 2
    path = tmp_path / f"latin1{suffix}"
    path.write_bytes('{"version": 1,\n"x": "caf\xe9"}'.encode("latin-1"))
    # When loading it
    with pytest.raises(InvalidDefinition) as raised:
        FlagSet.load(path)
    # Then the refusal names the file, the byte and its offset
    message = str(raised.value)
    assert message.startswith(f"{path}: not UTF-8 text")
    assert "byte 0xe9 at byte offset 24 (line 2)" in message
    assert raised.value.path == str(path)
