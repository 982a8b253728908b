"""The demo's first acts: the company's environments, segment, flags and keys, then a kill.

Everything goes through ``rheostat.service`` as an operator's changes would, so the audit log
the dashboard shows starts with them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rheostat import Context, FlagSet, service
from rheostat.cli.demo_scenario import (
    ENVIRONMENTS,
    FLAGS,
    KILL_SWITCH,
    PILOT_ORGS,
    PRODUCTION,
    SEGMENTS,
)
from rheostat.cli.output import show
from rheostat.cli.render import format_change, format_note
from rheostat.cli.render_demo import format_flags, format_health_line

__all__ = ["Keys", "kill_and_check", "seed"]

_USERS = 10_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Keys:
    """The demo's API keys (their secrets are shown once, here)."""

    admin: str
    sdk: str


def seed(store: service.SqlStore, *, actor: str) -> Keys:
    """Create both environments, the pilot segment, the flags and the keys in one change."""
    with store.unit_of_work() as uow:
        change = service.Change(actor=actor, reason="rheostat demo: the company's flags")
        for environment, description in ENVIRONMENTS.items():
            service.create_environment(uow, environment, description=description, change=change)
            for key, definition in SEGMENTS.items():
                service.create_segment(uow, environment, key, definition, change=change)
            for flag in FLAGS:
                service.create_flag(
                    uow, environment, flag.key, flag.definition(environment), change=change
                )
        admin = service.create_api_key(uow, name="demo-admin", scope="admin", change=change)
        sdk = service.create_api_key(
            uow, name="demo-app", scope="sdk", environment=PRODUCTION, change=change
        )
    with store.reading() as uow:
        rows = service.flag_summaries(uow, PRODUCTION)
        document = service.snapshot(uow, PRODUCTION).document
    title = f"{PRODUCTION}: users on, evaluated in-process from the snapshot as an SDK does"
    show(format_flags(rows, _users_on(document), users=_USERS, title=title))
    segments = f"{', '.join(SEGMENTS)} ({len(PILOT_ORGS)} orgs)"
    show(format_note(f"   {len(ENVIRONMENTS)} environments with {len(FLAGS)} flags, {segments}"))
    show(format_note(f"   admin key {admin.api_key.prefix}…, sdk key {sdk.api_key.prefix}…"))
    return Keys(admin=admin.token, sdk=sdk.token)


def _users_on(document: Mapping[str, Any]) -> dict[str, int]:
    """How many of the demo's users each on/off flag is on for (users of org 0 to 599)."""
    flags = FlagSet.from_dict(document)
    contexts = [
        Context(key=f"user-{n}", attributes={"org_id": f"org-{n % 600}"}) for n in range(_USERS)
    ]
    return {
        flag.key: sum(flags.is_enabled(flag.key, context) for context in contexts)
        for flag in FLAGS
        if "variants" not in flag.production
    }


def kill_and_check(store: service.SqlStore, *, actor: str) -> None:
    """Engage the kill switch, then show it as ``GET /health`` reports it."""
    key, reason = KILL_SWITCH
    with store.unit_of_work() as uow:
        killed = service.kill_flag(
            uow, PRODUCTION, key, change=service.Change(actor=actor, reason=reason)
        )
    show(format_change("killed", killed))
    show(format_health_line(service.check_health(store)))
