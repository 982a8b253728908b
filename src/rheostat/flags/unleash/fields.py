"""Reading Unleash context fields from a rheostat ``Context``.

Unleash contexts hold strings: ``userId``, ``sessionId``, ``remoteAddress``, ``environment``,
``appName``, ``currentTime`` and free ``properties``. ``Context.from_unleash`` makes ``userId``
the key and flattens the rest into attributes, so ``userId`` is read from the key (falling back
to an attribute) and every other field from the attributes. Non-string attribute values are
rendered as Unleash's JavaScript and Rust SDKs would render them (``true``, ``12``, ``1.5``).

Randomness: where Unleash draws a random number (``gradualRolloutRandom``, ``random``
stickiness, a variant with no stickiness value), we use ``random_stand_in`` instead: the
first of ``sessionId``, ``userId``, ``remoteAddress`` present, else ``""``. The answer is then
stable per session/user/address; contexts with none of them all get the same answer, which
is still exact at 0% and 100%.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from rheostat.flags.model import Context

__all__ = [
    "FieldReader",
    "as_text",
    "random_stand_in",
    "read_field",
    "remote_address",
    "seed_reader",
    "session_id",
    "user_id",
]

FieldReader = Callable[[Context], str | None]
"""Reads one field of the context as text; None when it is missing."""


def as_text(value: Any) -> str | None:
    """Render an attribute value as the string an Unleash context would hold."""
    if type(value) is str:
        return value
    if value is None:
        return None
    return _render(value)


def _render(value: Any) -> str | None:
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return None  # lists, mappings...: Unleash contexts cannot hold them


def user_id(context: Context) -> str | None:
    """Return ``userId``: the context key, else a ``userId`` attribute."""
    if context.key:
        return context.key
    return as_text(context.attributes.get("userId"))


def _attribute_reader(name: str) -> FieldReader:
    def read(context: Context) -> str | None:
        return as_text(context.attributes.get(name))

    return read


session_id = _attribute_reader("sessionId")
remote_address = _attribute_reader("remoteAddress")


def read_field(name: str) -> FieldReader:
    """Return a reader for the Unleash context field (or property) ``name``."""
    if name == "userId":
        return user_id
    return _attribute_reader(name)


def random_stand_in(context: Context) -> str:
    """Return the identifier hashed where Unleash would draw a random number."""
    return session_id(context) or user_id(context) or remote_address(context) or ""


def _default_stickiness(context: Context) -> str:
    return user_id(context) or session_id(context) or random_stand_in(context)


def seed_reader(stickiness: str | None) -> FieldReader:
    """Return the reader for a stickiness setting.

    ``default`` (or unset) is ``userId``, then ``sessionId``, then random; ``random`` is
    random; any other name is that context field. Callers decide what a missing field means
    (a rollout does not match; a variant falls back to random). Random is always
    ``random_stand_in``.
    """
    if stickiness in (None, "default"):
        return _default_stickiness
    if stickiness == "random":
        return random_stand_in
    return read_field(stickiness)
