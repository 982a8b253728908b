"""Which checks a suite sent over HTTP may run.

A suite posted to the API is text from the network: run as-is it could make the server run
commands, import code, read its files or reach any host (a database URL is a host too). So
over HTTP only the ``store`` kinds run by default, against rheostat's own database (no
``url``); the server's operator may allow more kinds by name (``RHEOSTAT_CHECKS_API_KINDS``).
Suite files read by the CLI and by the controller are the operator's own and are not limited.
"""

from __future__ import annotations

from collections.abc import Mapping

from rheostat.checks.kinds import BUILTIN_KINDS, Kind, Reach
from rheostat.checks.model import CheckSpec, Suite
from rheostat.errors import PermissionDenied

__all__ = ["reaches_outside", "refuse_outside"]

_OUTSIDE_PARAMS = ("url", "alembic_scripts")
"""Fields that point a ``store`` kind elsewhere: another database, a folder of the server."""


def reaches_outside(check: CheckSpec, kinds: Mapping[str, Kind] = BUILTIN_KINDS) -> bool:
    """Whether the check touches anything but rheostat's own database."""
    kind = kinds.get(check.kind)
    if kind is None or kind.reach is Reach.OUTSIDE:
        return True
    return any(name in check.params for name in _OUTSIDE_PARAMS)


def refuse_outside(
    suite: Suite, allowed: frozenset[str], kinds: Mapping[str, Kind] = BUILTIN_KINDS
) -> None:
    """Refuse the first check that reaches outside, unless its kind is ``allowed``.

    Raises:
        PermissionDenied: naming the check's path, its kind, and the setting that allows it.
    """
    for check in suite.checks:
        if check.kind in allowed or not reaches_outside(check, kinds):
            continue
        named = [name for name in _OUTSIDE_PARAMS if name in check.params]
        what = f"names {named[0]}" if named else "reaches outside rheostat"
        raise PermissionDenied(
            f"{check.path}: a {check.kind} check {what}; over HTTP this server runs only checks"
            " of its own database unless RHEOSTAT_CHECKS_API_KINDS allows the kind",
            details={"path": check.path, "kind": check.kind},
        )
