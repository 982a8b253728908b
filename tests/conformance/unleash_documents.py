"""Small builders for Unleash documents, shared by the Unleash conformance tests."""

from __future__ import annotations

from typing import Any


def feature(name: str = "f", *, enabled: bool = True, **fields: Any) -> dict[str, Any]:
    """An Unleash feature; ``strategies`` defaults to the ``default`` strategy."""
    fields.setdefault("strategies", [{"name": "default"}])
    return {"name": name, "enabled": enabled, **fields}


def strategy(name: str = "default", **fields: Any) -> dict[str, Any]:
    """An Unleash strategy."""
    return {"name": name, **fields}


def constraint(context_name: str, operator: str, **fields: Any) -> dict[str, Any]:
    """An Unleash constraint (pass ``values=[...]`` or ``value=...``)."""
    return {"contextName": context_name, "operator": operator, **fields}


def document(*features: dict[str, Any], segments: list[Any] | None = None) -> dict[str, Any]:
    """A version 2 client-API features document."""
    return {"version": 2, "features": list(features), "segments": segments or []}


def variant(name: str, weight: int = 1, **fields: Any) -> dict[str, Any]:
    """An Unleash variant with a string payload equal to its name unless given."""
    fields.setdefault("payload", {"type": "string", "value": name})
    return {"name": name, "weight": weight, **fields}
