"""The ``rheostat`` command: its groups and top-level commands."""

from __future__ import annotations

import typer

from rheostat.cli import (
    alerts,
    backfill,
    checks,
    controller,
    demo,
    envs,
    experiments,
    flags,
    keys,
    migrations,
    plans,
    portability,
    rollbacks,
    rollouts,
    server,
    simulate,
    webhooks,
)
from rheostat.cli.session import RheostatGroup

__all__ = ["app"]

app = typer.Typer(
    cls=RheostatGroup,
    help="rheostat: feature flags and safe production change.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
flags.app.command("import")(portability.import_flags)
flags.app.command("export")(portability.export_flags)
flags.app.command("rollback")(rollbacks.rollback_flag)
flags.app.command("rollbacks")(rollbacks.rollback_history)
app.add_typer(flags.app, name="flags")
app.add_typer(envs.app, name="env")
app.add_typer(keys.app, name="keys")
app.add_typer(experiments.app, name="experiment")
app.add_typer(plans.app, name="plan")
app.add_typer(rollouts.app, name="rollout")
app.add_typer(controller.app, name="controller")
app.add_typer(backfill.app, name="backfill")
app.add_typer(webhooks.app, name="webhooks")
app.add_typer(alerts.app, name="alerts")
app.add_typer(migrations.app, name="migrate")
app.command("check")(checks.check)
app.command("demo")(demo.demo)
app.command("serve")(server.serve)
app.command("migrate-db")(server.migrate_db)
app.command("health")(server.health)
app.command("simulate")(simulate.simulate_plan)
