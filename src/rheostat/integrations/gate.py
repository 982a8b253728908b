"""``FlagGate``: may this request pass the kill switch? Framework-free, never raises.

An adapter hands the gate its framework's request and a way to read the request's method,
path, headers and cookies (``RequestFacts``). The gate builds the rheostat ``Context`` (a
``context`` callable of the application's, or the user id from a header or a cookie with the
method and path as attributes) and asks the client. Whatever fails on the way (the
application's context callable raises, the client is broken) is logged and answered with the
gate's ``default``: ``False`` fails closed (the endpoint answers 503), ``True`` fails open
(the endpoint keeps serving).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypedDict

from rheostat.flags import Context

__all__ = [
    "FLAG_DISABLED",
    "SERVICE_UNAVAILABLE",
    "ContextBuilder",
    "FlagGate",
    "FlagReader",
    "GateOptions",
    "RequestFacts",
    "disabled_body",
    "kill_switch_health",
    "kill_switches",
]

logger = logging.getLogger("rheostat.integrations")

FLAG_DISABLED = "flag_disabled"
"""The error code of the 503 body."""

SERVICE_UNAVAILABLE = 503
"""The status every adapter answers with when the flag is off."""

ContextBuilder = Callable[[Any], "Context | str"]
"""The application's own ``request -> Context`` (or a ``str``, taken as the key)."""


class FlagReader(Protocol):
    """What a gate needs of a client: ``rheostat.Client``, ``AsyncClient`` and ``FlagSet``."""

    def is_enabled(self, key: str, context: Context | str, default: bool = False) -> bool:
        """Whether ``key`` is on for ``context``."""
        ...


class GateOptions(TypedDict, total=False):
    """The keywords every adapter's ``require_flag`` takes after ``client`` and ``flag``:
    ``FlagGate``'s options, with its defaults."""

    default: bool
    context: ContextBuilder | None
    user_header: str | None
    user_cookie: str | None
    message: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestFacts:
    """What the default context is built from, read by the adapter from its request."""

    method: str
    path: str
    header: Callable[[str], str | None]
    cookie: Callable[[str], str | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class FlagGate:
    """Ask ``client`` whether ``flag`` is on for a request.

    Attributes:
        client: a ``rheostat.Client`` (or ``AsyncClient``, or a ``FlagSet``).
        flag: the flag's key.
        default: the answer when the flag cannot be evaluated (unknown flag, no flags yet, a
            failing ``context`` callable): ``False`` fails closed (503), ``True`` fails open.
        context: builds the ``Context`` from the framework's request; by default the key is
            the ``user_header`` header, else the ``user_cookie`` cookie, else anonymous, and
            the attributes are ``method`` and ``path``.
        user_header, user_cookie: where the default context finds the user id.
        message: the 503 body's message (default ``"<flag> is disabled"``).
    """

    client: FlagReader
    flag: str
    default: bool = False
    context: ContextBuilder | None = None
    user_header: str | None = "X-User-Id"
    user_cookie: str | None = None
    message: str | None = None

    def allows(self, request: Any, facts: Callable[[], RequestFacts]) -> bool:
        """Whether the request may pass. Never raises: a failure answers ``default``."""
        try:
            if self.context is not None:
                context = self.context(request)
            else:
                context = self.context_of(facts())
            return bool(self.client.is_enabled(self.flag, context, self.default))
        except Exception:  # a kill switch must never turn a request into a 500
            logger.exception("rheostat: gating %r failed; answering %s", self.flag, self.default)
            return self.default

    def context_of(self, facts: RequestFacts) -> Context:
        """The default context: the user id from the header or the cookie, method and path."""
        user = (facts.header(self.user_header) if self.user_header else None) or (
            facts.cookie(self.user_cookie) if self.user_cookie else None
        )
        return Context(key=user or "", attributes={"method": facts.method, "path": facts.path})

    def body(self) -> dict[str, Any]:
        """The 503 body naming the flag (``disabled_body``)."""
        return disabled_body(self.flag, self.message)


def disabled_body(flag: str, message: str | None = None) -> dict[str, Any]:
    """``{"error": {"code": "flag_disabled", "message", "details": {"flag"}}}``: the project's
    one error shape, naming the flag."""
    return {
        "error": {
            "code": FLAG_DISABLED,
            "message": message or f"{flag} is disabled",
            "details": {"flag": flag},
        }
    }


def kill_switches(
    client: FlagReader,
    flags: Mapping[str, str] | Iterable[str],
    *,
    context: Context | str | None = None,
    default: bool = False,
) -> dict[str, bool]:
    """Whether each flag is on: ``{name: bool}``. Never raises.

    ``flags`` is a list of flag keys (each its own name) or a mapping ``name -> flag key``
    (``{"phase6_metrics": "phase6-metrics"}``). ``context`` defaults to an anonymous one;
    a flag that cannot be evaluated answers ``default``.
    """
    named = dict(flags) if isinstance(flags, Mapping) else {key: key for key in flags}
    asked = Context() if context is None else context
    switches: dict[str, bool] = {}
    for name, key in named.items():
        try:
            switches[name] = bool(client.is_enabled(key, asked, default))
        except Exception:  # health must answer even with a broken client
            logger.exception("rheostat: reading the kill switch %r failed", key)
            switches[name] = default
    return switches


def kill_switch_health(
    client: FlagReader,
    flags: Mapping[str, str] | Iterable[str],
    *,
    context: Context | str | None = None,
    default: bool = False,
) -> dict[str, Any]:
    """The flag part of an app's ``/health``: ``{"status": "healthy", "kill_switches": {...},
    "flags": {"status", "revision"}}``. Merge the app's own checks into it.

    ``flags.status`` is the client's (``ready``, ``stale``, ``error``; absent for a bare
    ``FlagSet``): flags that are stale do not make the app unhealthy, they are reported.
    """
    health: dict[str, Any] = {
        "status": "healthy",
        "kill_switches": kill_switches(client, flags, context=context, default=default),
    }
    status = getattr(client, "status", None)
    if status is not None:
        health["flags"] = {
            "status": str(getattr(status, "value", status)),
            "revision": getattr(client, "revision", None),
        }
    return health
