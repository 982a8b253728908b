"""The ``expect`` of a ``sql`` check."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from rheostat.checks.conditions import describe, meets, read_condition


@pytest.mark.parametrize(
    ("written", "actual", "expected"),
    [
        (">= 1", 3, True),
        (">= 1", 0, False),
        ("== 0", 0, True),
        ("< 10.5", Decimal("10.4"), True),
        ("!= 'open'", "closed", True),
        ("!= 'open'", "open", False),
        ("== 'x'", None, False),
        (7, 7, True),
        (True, True, True),
        ({"op": ">", "value": 2}, "3", True),
        ("> 2", "many", False),
        ("> 2", None, False),
    ],
)
def test_conditions(written: Any, actual: Any, expected: bool) -> None:
    assert meets(read_condition(written, "expect"), actual) is expected


def test_a_condition_is_described_as_written() -> None:
    assert describe(read_condition(">=  1", "expect")) == ">= 1"
