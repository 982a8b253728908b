"""``rheostat flags rollback|rollbacks``, ``rheostat webhooks ...`` and ``rheostat alerts ...``
on a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rheostat import service
from rheostat.cli import app
from rheostat.service import Change, transact

FLAG = "hybrid_search"


@pytest.fixture
def cli(sqlite_url: str) -> tuple[CliRunner, list[str]]:
    service.migrate_database(sqlite_url)
    store = service.open_store(sqlite_url)
    try:
        transact(store, service.create_environment, "production", change=Change(actor="setup"))
        transact(store, service.create_flag, "production", FLAG, {}, change=Change(actor="s"))
        transact(store, service.set_rollout_percentage, "production", FLAG, 40,
                 change=Change(actor="s"))  # fmt: skip
    finally:
        store.close()
    return CliRunner(env={"COLUMNS": "200"}), ["--database-url", sqlite_url]


def test_rollbacks_from_the_command_line_and_their_history(
    cli: tuple[CliRunner, list[str]],
) -> None:
    runner, db = cli

    # When the flag is rolled back gradually, then for one org, then at once
    gradual = runner.invoke(
        app, ["flags", "rollback", FLAG, "--mode", "gradual", "--steps", "50,0", "--bake", "10m",
              "--reason", "p95 up", "--actor", "ana", *db],
    )  # fmt: skip
    targeted = runner.invoke(
        app, ["flags", "rollback", FLAG, "--mode", "targeted", "--org", "org-17", "--json", *db]
    )
    immediate = runner.invoke(app, ["flags", "rollback", FLAG, "--reason", "5xx", *db])
    history = runner.invoke(app, ["flags", "rollbacks", FLAG, "--json", *db])
    table = runner.invoke(app, ["flags", "rollbacks", FLAG, *db])

    # Then each worked and the history lists them newest first, with who and why
    assert gradual.exit_code == 0, gradual.output
    assert "40% -> 20%" in gradual.output
    assert "next step at" in gradual.output
    assert targeted.exit_code == 0, targeted.output
    assert json.loads(targeted.output)["to"]["off_for"]["orgs"] == ["org-17"]
    assert immediate.exit_code == 0, immediate.output
    assert "off (kill switch)" in immediate.output
    rows = json.loads(history.output)
    assert [(r["mode"], r["status"], r["reason"]) for r in rows] == [
        ("immediate", "completed", "5xx"),
        ("targeted", "completed", None),
        ("gradual", "cancelled", "p95 up"),
    ]
    assert rows[2]["actor"] == "ana"
    assert table.exit_code == 0
    assert "gradual" in table.output


@pytest.mark.parametrize(
    "arguments",
    [
        ["--mode", "targeted"],
        ["--mode", "version"],
        ["--mode", "gradual", "--steps", "fifty"],
        ["--mode", "gradual", "--bake", "soon"],
        ["--mode", "sideways"],
    ],
)
def test_a_bad_rollback_is_a_usage_error_without_a_traceback(
    cli: tuple[CliRunner, list[str]], arguments: list[str]
) -> None:
    runner, db = cli
    result = runner.invoke(app, ["flags", "rollback", FLAG, *arguments, *db])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


def test_webhooks_and_alerts_from_the_command_line(
    cli: tuple[CliRunner, list[str]], tmp_path: Path
) -> None:
    runner, db = cli
    added = runner.invoke(
        app, ["webhooks", "add", "http://127.0.0.1:9/x", "--event", "rollback.*", "--json", *db]
    )
    assert added.exit_code == 0, added.output
    hook = json.loads(added.output)
    assert len(hook["secret"]) >= 16
    listed = json.loads(runner.invoke(app, ["webhooks", "list", "--json", *db]).output)
    assert [w["id"] for w in listed] == [hook["id"]]
    assert "secret" not in listed[0]
    runner.invoke(app, ["flags", "rollback", FLAG, *db])
    log = json.loads(
        runner.invoke(app, ["webhooks", "deliveries", hook["id"], "--json", *db]).output
    )
    assert [d["event_type"] for d in log] == ["rollback.completed", "rollback.started"]
    removed = runner.invoke(app, ["webhooks", "remove", hook["id"], *db])
    assert removed.exit_code == 0
    assert runner.invoke(app, ["webhooks", "remove", hook["id"], *db]).exit_code == 2

    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n  - {name: errors, flag: hybrid_search, metric: http_errors,"
        " warning: {above: 0.005}, critical: {above: 0.01}}\n"
    )
    stored = runner.invoke(app, ["alerts", "set-rules", str(rules), *db])
    assert stored.exit_code == 0, stored.output
    shown = json.loads(runner.invoke(app, ["alerts", "rules", *db]).output)
    assert shown["version"] == 1
    assert shown["rules"][0]["name"] == "errors"
    rules.write_text("rules: [{name: x}]\n")
    refused = runner.invoke(app, ["alerts", "set-rules", str(rules), *db])
    assert refused.exit_code == 2
    assert "rules[0]" in refused.output
    assert json.loads(runner.invoke(app, ["alerts", "list", "--json", *db]).output) == []
