"""Unleash's client specification, run through ``FlagSet``.

The corpus in ``unleash/`` is Unleash's own (Apache-2.0; see ``unleash/SOURCE.txt``): each file
holds a features document (``state``), ``isEnabled`` tests and ``getVariant`` tests. Every case
runs through the public API: ``FlagSet.from_unleash``, ``Context.from_unleash``,
``is_enabled``, ``variant().to_unleash()`` and ``evaluate``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from rheostat import Context, ErrorCode, FlagSet, Reason

CORPUS = Path(__file__).parent / "unleash"
FLAG_NOT_FOUND = ErrorCode.FLAG_NOT_FOUND
OFF_REASONS = {Reason.DISABLED, Reason.DEFAULT, Reason.PREREQUISITE_FAILED}


def spec_files() -> list[str]:
    files: list[str] = json.loads((CORPUS / "index.json").read_text(encoding="utf-8"))
    return files


@cache
def load_spec(file_name: str) -> dict[str, Any]:
    spec: dict[str, Any] = json.loads((CORPUS / file_name).read_text(encoding="utf-8"))
    return spec


@cache
def flag_set(file_name: str) -> FlagSet:
    return FlagSet.from_unleash(load_spec(file_name)["state"])


def cases(kind: str) -> Iterator[Any]:
    for file_name in spec_files():
        for index, case in enumerate(load_spec(file_name).get(kind, [])):
            case_id = f"{Path(file_name).stem}/{index:02d} {case['description']}"
            yield pytest.param(file_name, case, id=case_id)


@pytest.mark.parametrize(("file_name", "case"), list(cases("tests")))
def test_is_enabled_matches_unleash(file_name: str, case: dict[str, Any]) -> None:
    # Given
    flags = flag_set(file_name)
    context = Context.from_unleash(case["context"])

    # When
    enabled = flags.is_enabled(case["toggleName"], context)

    # Then
    assert enabled is case["expectedResult"]


@pytest.mark.parametrize(("file_name", "case"), list(cases("variantTests")))
def test_variant_matches_unleash(file_name: str, case: dict[str, Any]) -> None:
    # Given
    flags = flag_set(file_name)
    context = Context.from_unleash(case["context"])

    # When
    variant = flags.variant(case["toggleName"], context)

    # Then
    assert variant.to_unleash() == case["expectedResult"]


@pytest.mark.parametrize(("file_name", "case"), list(cases("tests")))
def test_evaluate_agrees_with_is_enabled(file_name: str, case: dict[str, Any]) -> None:
    # Given
    flags = flag_set(file_name)
    context = Context.from_unleash(case["context"])
    expected = case["expectedResult"]

    # When
    evaluation = flags.evaluate(case["toggleName"], context, default=False)

    # Then
    if case["toggleName"] not in flags:
        assert (evaluation.reason, evaluation.error_code) == (Reason.ERROR, FLAG_NOT_FOUND)
    else:
        assert (evaluation.reason not in OFF_REASONS) is expected
    if not expected or evaluation.variant == "enabled":
        assert evaluation.value is expected


@pytest.mark.parametrize(("file_name", "case"), list(cases("variantTests")))
def test_evaluate_serves_the_variant_payload(file_name: str, case: dict[str, Any]) -> None:
    # Given
    flags = flag_set(file_name)
    context = Context.from_unleash(case["context"])
    expected = case["expectedResult"]

    # When
    evaluation = flags.evaluate(case["toggleName"], context, default="fallback")

    # Then
    if expected["enabled"]:
        assert evaluation.variant == expected["name"]
        assert evaluation.reason in (Reason.SPLIT, Reason.TARGETING_MATCH)
        assert evaluation.value == expected["payload"]["value"]
    else:
        assert evaluation.value == "fallback"


def test_the_whole_corpus_runs() -> None:
    # Given
    files = spec_files()

    # When
    specs = [load_spec(file_name) for file_name in files]

    # Then
    assert len(files) == 22
    assert sum(len(spec.get("tests", [])) for spec in specs) == 227
    assert sum(len(spec.get("variantTests", [])) for spec in specs) == 52
    assert (CORPUS / "LICENSE").is_file()
    assert (CORPUS / "SOURCE.txt").is_file()


def test_canonical_documents_rebuild_the_same_flags() -> None:
    for file_name in spec_files():
        # Given
        original = flag_set(file_name)

        # When
        rebuilt = FlagSet.from_dict(original.to_dict())

        # Then
        assert rebuilt.keys() == original.keys()
        for case in load_spec(file_name).get("tests", []):
            context = Context.from_unleash(case["context"])
            name = case["toggleName"]
            assert rebuilt.is_enabled(name, context) is original.is_enabled(name, context)
