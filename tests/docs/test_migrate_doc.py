"""Every YAML example of ``docs/migrate.md`` is a valid document of its kind, and the flag
document routes as the page says."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from rheostat import Context, FlagSet
from rheostat.checks import read_suite
from rheostat.migrate import Stage, migration_from_text, stage_flag_definitions
from rheostat.rollout import plan_from_text
from rheostat.sdk.migrator import Migrator

DOCUMENT = Path(__file__).parents[2] / "docs" / "migrate.md"
EXAMPLES = re.findall(r"```yaml\n(.*?)```", DOCUMENT.read_text(encoding="utf-8"), re.DOTALL)


def _example(first_key: str) -> str:
    [found] = [text for text in EXAMPLES if next(iter(yaml.safe_load(text))) == first_key]
    return found


def test_the_migration_example_is_valid() -> None:
    migration = migration_from_text(_example("migration"), {"APP_DB": "postgresql://db/app"})
    assert (migration.group_by, migration.pilot) == ("org_id", (123, 456, 789))


def test_the_plan_example_is_valid_and_ramps_the_live_flag() -> None:
    plan = plan_from_text(_example("plan"), name_hint="docs/migrate.md")
    assert plan.flag == "migrate.revenue.live"


def test_the_check_suite_example_is_valid() -> None:
    suite = read_suite(_example("suite"), environ={})
    assert [check.name for check in suite.checks] == ["parity"]


def test_the_flag_document_puts_pilot_orgs_live_and_the_rest_in_shadow() -> None:
    document = yaml.safe_load(_example("version"))
    flags = FlagSet.from_dict(document)
    migrator = Migrator("revenue", flags)
    assert migrator.stage(Context(key="org-123", attributes={"org_id": 123})) is Stage.LIVE
    assert migrator.stage(Context(key="org-5", attributes={"org_id": 5})) is Stage.SHADOW
    # and its flags are the ones `rheostat migrate flags` creates, with rules added
    for key, definition in stage_flag_definitions("revenue").items():
        if key in document["flags"]:
            shown = {k: v for k, v in document["flags"][key].items() if k != "rules"}
            assert shown == {
                k: v for k, v in definition.items() if k not in ("description", "type")
            }
