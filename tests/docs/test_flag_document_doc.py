"""``docs/flag-document.md`` and its JSON Schema agree with the engine.

The example document is canonical (``FlagSet.to_dict`` gives it back) and valid under the
schema; every bucket in the bucketing table is computed by the engine (and by MurmurHash3
directly); every row of the worked evaluations is what ``FlagSet.evaluate`` answers.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema_rs
import mmh3
import pytest

from rheostat.errors import InvalidDefinition
from rheostat.flags import Context, FlagSet
from rheostat.flags.bucketing import bucket

DOCS = Path(__file__).resolve().parents[2] / "docs"
DOC = (DOCS / "flag-document.md").read_text(encoding="utf-8")
SCHEMA = json.loads((DOCS / "schemas" / "flag-document.schema.json").read_text(encoding="utf-8"))


def _example() -> dict[str, Any]:
    blocks = re.findall(r"```json\n(.*?)```", DOC, flags=re.DOTALL)
    documents = [json.loads(block) for block in blocks]
    examples = [doc for doc in documents if isinstance(doc, dict) and "flags" in doc]
    assert len(examples) == 1
    return examples[0]


def _table(first_header: str) -> list[list[str]]:
    """The rows of the Markdown table whose header starts with ``| first_header |``."""
    lines = DOC.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def _code(cell: str) -> str:
    return cell.strip("`")


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema_rs.meta.validate(SCHEMA)


def test_the_example_document_is_canonical_and_valid_under_the_schema() -> None:
    example = _example()
    jsonschema_rs.Draft202012Validator(SCHEMA).validate(example)
    assert FlagSet.from_dict(example).to_dict() == example


BUCKET_ROWS = _table("salt")


@pytest.mark.parametrize("row", BUCKET_ROWS, ids=lambda row: f"{row[0]}:{row[1]}")
def test_every_documented_bucket_is_the_engines(row: list[str]) -> None:
    salt, value, hashed, murmur, documented = (_code(cell) for cell in row)
    assert hashed == f"{salt}:{value}"
    assert mmh3.hash(hashed.encode("utf-8"), 0, signed=False) == int(murmur)
    assert int(murmur) % 100_000 == int(documented)
    assert bucket(salt, value) == int(documented)


def test_the_bucketing_table_covers_every_split_of_the_example() -> None:
    assert len(BUCKET_ROWS) >= 6
    # the ranges quoted under the table: on [0, 10000), off [10000, 95000), holdback above
    flags = FlagSet.from_dict(_example())
    served = {
        key: flags.variant("new-checkout", key).name for key in ("user-11", "user-1", "user-7")
    }
    assert served == {"user-11": "on", "user-1": "off", "user-7": "holdback"}


EVALUATION_ROWS = _table("flag")


@pytest.mark.parametrize(
    "row", EVALUATION_ROWS, ids=lambda row: f"{_code(row[0])}:{_code(row[1])}:{row[2]}"
)
def test_every_worked_evaluation_is_the_engines(row: list[str]) -> None:
    flag, key, attributes, variant, value, reason = row
    context = Context(key=_code(key), attributes=json.loads(_code(attributes) or "{}"))
    evaluation = FlagSet.from_dict(_example()).evaluate(_code(flag), context)
    assert evaluation.variant == _code(variant)
    assert evaluation.value == json.loads(_code(value))
    assert evaluation.reason.value == _code(reason)
    assert evaluation.version == _example()["flags"][_code(flag)]["version"]


def test_the_worked_evaluations_reach_every_reason_but_static_and_disabled() -> None:
    reasons = {_code(row[5]) for row in EVALUATION_ROWS}
    assert reasons == {"TARGETING_MATCH", "SPLIT", "DEFAULT", "PREREQUISITE_FAILED"}


REFUSALS: list[tuple[str, Any]] = [
    ("a document version other than 1", lambda doc: doc.update(version=2)),
    ("an unknown hash version", lambda doc: doc["flags"]["max-items"].update(hash_version=2)),
    ("an unknown field", lambda doc: doc["flags"]["max-items"].update(colour="red")),
    ("a text in a number flag", lambda doc: doc["flags"]["max-items"]["variants"].update(few="10")),
    ("a text in a bool flag", lambda doc: doc["flags"]["new-checkout"]["variants"].update(on="y")),
    (
        "a segment inside a segment",
        lambda doc: doc["segments"]["pilot-orgs"]["conditions"][0].update(op="in_segment"),
    ),
    (
        "an operator without operands",
        lambda doc: doc["flags"]["max-items"]["rules"][0]["when"][0].update(values=[]),
    ),
    (
        "two versions for semver_lt",
        lambda doc: doc["flags"]["max-items"]["rules"][0]["when"][0].update(
            values=["1.0.0", "2.0.0"]
        ),
    ),
    (
        "a weight over 100",
        lambda doc: doc["flags"]["new-checkout"]["rules"][1]["serve"]["split"].update(on=101),
    ),
    ("a key with a space", lambda doc: doc["flags"].update({"two words": {}})),
]


@pytest.mark.parametrize(("why", "change"), REFUSALS, ids=[why for why, _ in REFUSALS])
def test_the_schema_refuses_what_the_engine_refuses(why: str, change: Any) -> None:
    # Given the example document with one thing broken
    document = _example()
    change(document)

    # Then both the schema and the engine refuse it
    assert not jsonschema_rs.Draft202012Validator(SCHEMA).is_valid(document), why
    with pytest.raises(InvalidDefinition):
        FlagSet.from_dict(document)


def test_the_schema_asks_for_the_canonical_form_the_server_serves() -> None:
    # a field left to its default is accepted by the engine, but never served that way
    document = _example()
    del document["flags"]["max-items"]["salt"]
    assert FlagSet.from_dict(document).to_dict()["flags"]["max-items"]["salt"] == ""
    assert not jsonschema_rs.Draft202012Validator(SCHEMA).is_valid(document)
