"""Opening the store for one command, and turning errors into a red line and an exit status."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from typer.core import TyperGroup

from rheostat import service
from rheostat.cli.exit_codes import exit_code_for
from rheostat.cli.output import print_error
from rheostat.cli.suggestions import with_suggestion
from rheostat.errors import NotFound, RheostatError, StorageError

__all__ = ["RheostatGroup", "connect", "reading", "transaction"]

_MIGRATE_HINT = "the database schema is {state}: run `rheostat migrate-db` first"


@contextmanager
def connect(database_url: str) -> Iterator[service.SqlStore]:
    """Open the store for the length of a command, and close it after.

    A storage failure on a database whose schema is missing or behind the code is reported
    with what to do about it; a flag or environment that does not exist, with the closest
    existing key ("did you mean 'new-checkout'?").
    """
    store = service.open_store(database_url)
    try:
        yield store
    except StorageError as error:
        raise _explained(store, error) from error
    except NotFound as error:
        suggested = with_suggestion(store, error)
        if suggested is error:
            raise
        raise suggested from error
    finally:
        store.close()


@contextmanager
def transaction(database_url: str) -> Iterator[service.UnitOfWork]:
    """The command's one read-write transaction: committed when the command's work is done,
    rolled back (nothing changed) if any part of it fails."""
    with connect(database_url) as store, store.unit_of_work() as uow:
        yield uow


@contextmanager
def reading(database_url: str) -> Iterator[service.UnitOfWork]:
    """The command's read-only transaction: one consistent view, no lock taken."""
    with connect(database_url) as store, store.reading() as uow:
        yield uow


def _explained(store: service.SqlStore, error: StorageError) -> StorageError:
    health = service.check_health(store)
    if health.database in ("outdated", "missing"):
        hint = _MIGRATE_HINT.format(state=health.database)
        return StorageError(f"{error.message} ({hint})", details=error.details)
    return error


class RheostatGroup(TyperGroup):
    """The root command group: a ``RheostatError`` becomes one red line and its exit status."""

    def invoke(self, ctx: Any) -> Any:  # typer's vendored click.Context; Any is its supertype
        """Run the command; map rheostat errors to exit statuses (see ``exit_codes``)."""
        try:
            return super().invoke(ctx)
        except RheostatError as error:
            print_error(error.message)
            raise typer.Exit(code=int(exit_code_for(error))) from None
