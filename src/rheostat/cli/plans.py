"""``rheostat plan ...``: release plan documents (the controller that runs them comes next)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rheostat.cli.options import JsonOption
from rheostat.cli.output import print_json, show
from rheostat.cli.render_plans import format_plan
from rheostat.rollout import load_plan, plan_to_dict

__all__ = ["app"]

app = typer.Typer(help="Release plans: validate a plan document.", no_args_is_help=True)


@app.command("validate")
def validate(
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="Plan document (YAML or JSON).", show_default=False),
    ],
    as_json: JsonOption = False,
) -> None:
    """Check a plan document whole; show its stages and gates (exit 2 naming the first error)."""
    plan = load_plan(file)
    if as_json:
        print_json(plan_to_dict(plan))
    else:
        show(format_plan(plan))
