"""The canonical native document of validated definitions (what ``FlagSet.to_dict`` returns)."""

from __future__ import annotations

from typing import Any

from rheostat.flags.model import Condition, Flag, Rule, Segment, Split

__all__ = ["dump_condition", "dump_flag", "dump_segment"]


def dump_flag(flag: Flag) -> dict[str, Any]:
    """Return the canonical definition of ``flag``; parsing it gives the same flag back."""
    body: dict[str, Any] = {
        "description": flag.description,
        "enabled": flag.enabled,
        "type": flag.type.value,
        "variants": dict(flag.variants),
        "default": flag.default,
        "salt": flag.salt,
        "hash_version": flag.hash_version,
        "prerequisites": [
            {"flag": p.flag, "variants": list(p.variants)} for p in flag.prerequisites
        ],
        "targets": [
            {"variant": t.variant, "keys": list(t.keys), "groups": list(t.groups)}
            for t in flag.targets
        ],
        "rules": [_dump_rule(rule) for rule in flag.rules],
    }
    if flag.version is not None:
        body["version"] = flag.version
    return body


def dump_segment(segment: Segment) -> dict[str, Any]:
    """Return the canonical definition of ``segment``."""
    return {
        "description": segment.description,
        "conditions": [dump_condition(condition) for condition in segment.conditions],
    }


def dump_condition(condition: Condition) -> dict[str, Any]:
    """Return the canonical definition of ``condition``."""
    return {
        "attribute": condition.attribute,
        "op": condition.op.value,
        "values": list(condition.values),
        "negate": condition.negate,
        "case_insensitive": condition.case_insensitive,
    }


def _dump_rule(rule: Rule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "when": [dump_condition(condition) for condition in rule.conditions],
        "serve": _dump_serve(rule.serve),
    }


def _dump_serve(serve: str | Split) -> str | dict[str, Any]:
    if isinstance(serve, str):
        return serve
    return {"split": {name: count / 1000 for name, count in serve.weights}, "by": serve.by}
