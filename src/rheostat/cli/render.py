"""Pure ``format_*`` functions: service values in, Rich renderables out. Nothing prints here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import yaml
from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from rheostat.cli.output import to_json_data
from rheostat.flags.summary import rollout_percent
from rheostat.service import (
    ApiKey,
    CreatedApiKey,
    Environment,
    FlagRecord,
    FlagSummary,
    FlagVersion,
    Health,
    HealthStatus,
    ImportResult,
)

__all__ = [
    "format_api_keys",
    "format_change",
    "format_created_key",
    "format_environment",
    "format_environments",
    "format_flag",
    "format_flag_version",
    "format_health",
    "format_history",
    "format_import_result",
    "format_note",
    "format_rollout_table",
]

_STATE_STYLES: Mapping[str, str] = {
    "enabled": "green",
    "percentage": "yellow",
    "targeted": "cyan",
    "off": "dim",
    "disabled": "bold red",
}
_HEALTH_STYLES: Mapping[HealthStatus, str] = {
    HealthStatus.HEALTHY: "bold green",
    HealthStatus.DEGRADED: "bold yellow",
    HealthStatus.UNHEALTHY: "bold red",
}


def format_when(moment: datetime) -> str:
    """Render a timestamp to the second, with its zone."""
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def format_percent(percent: float | None) -> str:
    """Render a share with up to three decimals (``12.5%``), or ``-`` when there is none."""
    if percent is None:
        return "-"
    return f"{percent:.3f}".rstrip("0").rstrip(".") + "%"


def format_note(message: str, *, style: str = "green") -> Text:
    """One line that says what happened."""
    return Text(message, style=style)


def format_change(verb: str, record: FlagRecord) -> Text:
    """``new-checkout killed in production (version 4)``."""
    line = Text()
    line.append(record.key, style="bold")
    line.append(f" {verb} in ")
    line.append(record.environment, style="bold magenta")
    line.append(f" (version {record.version})")
    if not record.enabled:
        line.append("  kill switch engaged", style="bold red")
    return line


def format_rollout_table(rows: Sequence[FlagSummary], *, title: str) -> Table:
    """Every flag with its state and rollout: the seeds' ``make rollout-status`` view."""
    table = Table(title=title, title_justify="left", expand=False)
    for column in ("flag", "state", "rollout", "version", "updated", "description"):
        table.add_column(column, justify="right" if column in ("rollout", "version") else "left")
    for row in rows:
        table.add_row(
            Text(row.key, style="bold"),
            Text(str(row.state), style=_STATE_STYLES.get(str(row.state), "")),
            format_percent(row.rollout_percent),
            str(row.version),
            format_when(row.updated_at),
            row.description,
        )
    if not rows:
        table.caption = "no flags yet: create one with `rheostat flags set <flag>`"
    return table


def format_flag(record: FlagRecord) -> Panel:
    """A flag's state and its definition (as YAML)."""
    facts = _facts(
        ("environment", record.environment),
        ("version", str(record.version)),
        ("enabled", _enabled_text(record.enabled)),
        ("rollout", format_percent(rollout_percent(record.definition))),
        ("updated", format_when(record.updated_at)),
    )
    return Panel(Group(facts, _definition_yaml(record.definition)), title=record.key)


def format_flag_version(version: FlagVersion) -> Panel:
    """One version of a flag's history: who, when, why, and the definition then."""
    facts = _facts(
        ("environment", version.environment),
        ("version", str(version.version) + ("  (deleted)" if version.deleted else "")),
        ("action", str(version.action)),
        ("by", version.actor),
        ("at", format_when(version.created_at)),
        ("why", version.reason or "-"),
    )
    body = Group(facts, _definition_yaml(version.definition))
    return Panel(body, title=f"{version.key} @ version {version.version}")


def format_history(versions: Sequence[FlagVersion], *, title: str) -> Table:
    """A flag's versions, newest first: what changed, who, when, why."""
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("v", justify="right")
    table.add_column("when (UTC)", no_wrap=True)
    table.add_column("who")
    table.add_column("change", no_wrap=True)
    table.add_column("serving", justify="right", no_wrap=True)
    table.add_column("why", ratio=1)
    for version in versions:
        table.add_row(
            str(version.version),
            version.created_at.strftime("%Y-%m-%d %H:%M"),
            version.actor,
            str(version.action).removeprefix("flag."),
            _serving(version),
            version.reason or "",
        )
    return table


def _serving(version: FlagVersion) -> Text:
    if version.deleted:
        return Text("deleted", style="dim")
    if not version.definition.get("enabled", True):
        return Text("KILLED", style="bold red")
    return Text(format_percent(rollout_percent(version.definition)))


def format_environments(environments: Sequence[Environment]) -> Table:
    """Every environment."""
    table = Table(title="environments", title_justify="left")
    for column in ("key", "name", "version", "created", "description"):
        table.add_column(column)
    for environment in environments:
        table.add_row(
            Text(environment.key, style="bold magenta"),
            environment.name,
            str(environment.version),
            format_when(environment.created_at),
            environment.description,
        )
    if not environments:
        table.caption = "none yet: `rheostat env create production`"
    return table


def format_environment(environment: Environment) -> Panel:
    """One environment."""
    facts = _facts(
        ("name", environment.name),
        ("description", environment.description or "-"),
        ("version", str(environment.version)),
        ("created", format_when(environment.created_at)),
        ("updated", format_when(environment.updated_at)),
    )
    return Panel(facts, title=environment.key)


def format_api_keys(keys: Sequence[ApiKey]) -> Table:
    """API keys, never their tokens."""
    table = Table(title="API keys", title_justify="left")
    table.add_column("id", no_wrap=True)
    for column in ("name", "scope", "environment", "prefix", "status", "created by"):
        table.add_column(column)
    for key in keys:
        status = (
            Text("active", style="green")
            if key.is_active
            else Text(f"revoked {format_when(key.revoked_at)}", style="red")
            if key.revoked_at
            else Text("revoked", style="red")
        )
        table.add_row(
            key.id,
            key.name,
            str(key.scope),
            key.environment or "*",
            key.prefix + "…",
            status,
            key.created_by,
        )
    return table


def format_created_key(created: CreatedApiKey) -> Panel:
    """A new key and its token, with the warning that it is shown only once."""
    key = created.api_key
    facts = _facts(
        ("id", key.id),
        ("scope", str(key.scope)),
        ("environment", key.environment or "* (all)"),
        ("token", Text(created.token, style="bold yellow")),
    )
    warning = Text("Store the token now: it is shown only this once.", style="bold red")
    return Panel(Group(facts, warning), title=f"API key {key.name}")


def format_import_result(result: ImportResult, *, dry_run: bool) -> Group:
    """What an import changed (or, for a dry run, would change)."""
    heading = "dry run, nothing written" if dry_run else "imported"
    lines: list[RenderableType] = [Text(heading, style="bold")]
    for label, keys in (
        ("flags created", result.created),
        ("flags updated", result.updated),
        ("flags deleted", result.deleted),
        ("flags unchanged", result.unchanged),
        ("segments created", result.segments_created),
        ("segments updated", result.segments_updated),
        ("segments deleted", result.segments_deleted),
    ):
        if keys:
            lines.append(Text(f"  {label}: " + ", ".join(keys)))
    if not result.changed:
        lines.append(Text("  no changes", style="dim"))
    return Group(*lines)


def format_health(health: Health) -> Group:
    """Overall status, the database check, and the kill switches engaged."""
    status = Text(str(health.status), style=_HEALTH_STYLES[health.status])
    facts = _facts(
        ("status", status),
        ("database", health.database),
        ("schema", health.schema_revision or "-"),
        ("kill switches", f"{health.kill_switches_engaged} engaged"),
        ("running plans", str(len(health.running_plans))),
        ("firing alerts", str(len(health.firing_alerts))),
        ("gradual rollbacks", f"{health.running_rollbacks} stepping down"),
        ("migrations", _migrations_fact(health.migrations)),
    )
    parts: list[RenderableType] = [facts]
    if health.error:
        parts.append(Text(health.error, style="red"))
    parts.append(_kill_switch_table(health.kill_switches))
    for alert in health.firing_alerts:
        style = "bold red" if alert["severity"] == "critical" else "yellow"
        parts.append(Text(f"{alert['severity']}: {alert['message']}", style=style))
    return Group(*parts)


def _migrations_fact(migrations: Sequence[Mapping[str, Any]]) -> str:
    levels = [str(run.get("level")) for run in migrations]
    behind = sum(level in ("warning", "critical") for level in levels)
    return f"{len(levels)} with parity runs, {behind} at warning or critical"


def _kill_switch_table(kill_switches: Mapping[str, Mapping[str, bool]]) -> Table:
    table = Table(title="kill switches", title_justify="left")
    for column in ("environment", "flag", "kill switch"):
        table.add_column(column)
    for environment, flags in sorted(kill_switches.items()):
        for flag, engaged in sorted(flags.items()):
            label = Text("ENGAGED", style="bold red") if engaged else Text("off", style="green")
            table.add_row(environment, flag, label)
    return table


def _enabled_text(enabled: bool) -> Text:
    return Text("on", style="green") if enabled else Text("off (kill switch)", style="bold red")


def _facts(*pairs: tuple[str, str | Text]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column()
    for label, value in pairs:
        grid.add_row(label, value)
    return grid


def _definition_yaml(definition: Mapping[str, Any]) -> Syntax:
    text = yaml.safe_dump(to_json_data(definition), sort_keys=False, allow_unicode=True)
    return Syntax(text.rstrip(), "yaml", theme="ansi_dark", background_color="default")
