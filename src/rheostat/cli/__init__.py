"""The ``rheostat`` command line (Typer + Rich); ``main`` is the console script."""

from __future__ import annotations

from rheostat.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    """Run the ``rheostat`` command (exit 0 ok, 1 failed, 2 usage error)."""
    app()
