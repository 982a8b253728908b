"""What the flag pages show, built from the service's records (pure)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rheostat.service import FlagSummary, FlagVersion
from rheostat.web.diffs import DiffLine, definition_diff

__all__ = [
    "FlagRow",
    "HistoryRow",
    "RuleRow",
    "VariantRow",
    "flag_rows",
    "history_rows",
    "rule_rows",
    "variant_rows",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class FlagRow:
    """One flag in the list."""

    environment: str
    key: str
    description: str
    state: str
    killed: bool
    rollout: str
    rollout_percent: float | None
    version: int
    updated_at: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleRow:
    """One targeting rule: when it matches and what it serves."""

    name: str
    conditions: tuple[str, ...]
    serves: str


@dataclass(frozen=True, slots=True, kw_only=True)
class VariantRow:
    """One variant and its value."""

    name: str
    value: str
    is_default: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryRow:
    """One version in the flag's history, with what changed since the one before."""

    version: int
    action: str
    actor: str
    reason: str
    at: str
    deleted: bool
    diff: tuple[DiffLine, ...]
    is_current: bool


def flag_rows(summaries: Iterable[FlagSummary], *, search: str = "") -> list[FlagRow]:
    """The flags whose key or description contains ``search`` (any case), as list rows."""
    wanted = search.strip().lower()
    return [
        _flag_row(summary)
        for summary in summaries
        if not wanted or wanted in summary.key.lower() or wanted in summary.description.lower()
    ]


def _flag_row(summary: FlagSummary) -> FlagRow:
    percent = summary.rollout_percent
    return FlagRow(
        environment=summary.environment,
        key=summary.key,
        description=summary.description,
        state=summary.state.value,
        killed=not summary.enabled,
        rollout="—" if percent is None else f"{percent:g}%",
        rollout_percent=percent,
        version=summary.version,
        updated_at=summary.updated_at.strftime("%Y-%m-%d %H:%M:%S"),
    )


def rule_rows(definition: Mapping[str, Any]) -> list[RuleRow]:
    """The definition's rules in order (the first that matches serves)."""
    rows = []
    for index, rule in enumerate(definition.get("rules") or []):
        conditions = tuple(_condition_text(c) for c in rule.get("when") or [])
        rows.append(
            RuleRow(
                name=str(rule.get("name") or f"rule {index + 1}"),
                conditions=conditions or ("everyone",),
                serves=_serve_text(rule.get("serve")),
            )
        )
    return rows


def _condition_text(condition: Mapping[str, Any]) -> str:
    values = ", ".join(str(value) for value in condition.get("values") or [])
    negation = "not " if condition.get("negate") else ""
    return f"{condition.get('attribute', '?')} {negation}{condition.get('op', '?')} [{values}]"


def _serve_text(serve: Any) -> str:
    if isinstance(serve, Mapping) and isinstance(serve.get("split"), Mapping):
        shares = ", ".join(f"{name} {weight:g}%" for name, weight in serve["split"].items())
        return f"split by {serve.get('by', 'key')}: {shares}"
    return f"variant {serve}"


def variant_rows(definition: Mapping[str, Any]) -> list[VariantRow]:
    """The variants with their values; the default variant is marked."""
    default = definition.get("default")
    return [
        VariantRow(name=str(name), value=json.dumps(value), is_default=name == default)
        for name, value in (definition.get("variants") or {}).items()
    ]


def history_rows(versions: Sequence[FlagVersion]) -> list[HistoryRow]:
    """Versions newest first, each with its diff against the version before it."""
    rows = []
    for index, version in enumerate(versions):
        older = versions[index + 1] if index + 1 < len(versions) else None
        before = None if older is None or older.deleted else older.definition
        after = None if version.deleted else version.definition
        rows.append(
            HistoryRow(
                version=version.version,
                action=str(version.action),
                actor=version.actor,
                reason=version.reason or "",
                at=version.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                deleted=version.deleted,
                diff=tuple(definition_diff(before, after)),
                is_current=index == 0,
            )
        )
    return rows
