"""Every YAML example of ``docs/plans.md`` is a valid plan document."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rheostat.rollout import plan_from_text, plan_to_dict

DOCUMENT = Path(__file__).parents[2] / "docs" / "plans.md"
EXAMPLES = re.findall(r"```yaml\n(.*?)```", DOCUMENT.read_text(encoding="utf-8"), re.DOTALL)


def test_the_page_has_examples() -> None:
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("example", EXAMPLES)
def test_each_example_is_a_valid_plan(example: str) -> None:
    plan = plan_from_text(example, name_hint="docs/plans.md")
    assert plan_to_dict(plan)["plan"] == plan.name
