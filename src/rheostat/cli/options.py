"""Options every command shares, as ``Annotated`` types, and their defaults.

``--env`` defaults to ``$RHEOSTAT_ENV``, else ``production``: the environment an SDK
``Client`` reads by default, so ``rheostat flags get x`` shows what the application sees and an
emergency ``rheostat flags kill x`` needs nothing more. Every change names the environment in
its output and in the audit log, and can be undone with ``flags restore``.
"""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from rheostat.settings import DEFAULT_DATABASE_URL

__all__ = [
    "DEFAULT_ENVIRONMENT",
    "MAX_VERSION",
    "ActorOption",
    "DatabaseUrlOption",
    "EnvOption",
    "ExpectedVersionOption",
    "JsonOption",
    "ReasonOption",
    "default_actor",
]

DEFAULT_ENVIRONMENT = "production"
MAX_VERSION = 2_147_483_647
"""The largest version the database stores."""
_FALLBACK_ACTOR = "cli"

DatabaseUrlOption = Annotated[
    str,
    typer.Option(
        "--database-url",
        envvar="RHEOSTAT_DATABASE_URL",
        help="SQLite or PostgreSQL URL.",
        show_default=DEFAULT_DATABASE_URL,
    ),
]
EnvOption = Annotated[
    str,
    typer.Option(
        "--env",
        "-e",
        envvar="RHEOSTAT_ENV",
        help="Environment to act on.",
        show_default=DEFAULT_ENVIRONMENT,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead.")]
ActorOption = Annotated[
    str | None,
    typer.Option("--actor", help="Who makes the change (audit log).", show_default="$USER"),
]
ReasonOption = Annotated[
    str | None, typer.Option("--reason", "-r", help="Why (audit log and flag history).")
]
ExpectedVersionOption = Annotated[
    int | None,
    typer.Option(
        "--expected-version",
        min=1,
        max=MAX_VERSION,
        help="Refuse the change unless the flag is still at this version.",
    ),
]


def default_actor(actor: str | None) -> str:
    """Return ``actor``, else the login name (``$USER``), else ``cli``."""
    if actor and actor.strip():
        return actor.strip()
    try:
        return getpass.getuser() or _FALLBACK_ACTOR
    except (OSError, KeyError):  # no $USER and no passwd entry (some containers)
        return _FALLBACK_ACTOR
