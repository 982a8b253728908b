"""Checked by mypy only: the public API reads as documented, with precise types."""

from __future__ import annotations

import rheostat


def evaluate_as_documented(document: dict[str, object]) -> None:
    flags: rheostat.FlagSet = rheostat.FlagSet.from_dict(document)
    user = rheostat.Context(key="user-42", attributes={"country": "US"})
    enabled: bool = flags.is_enabled("new-checkout", user)
    variant: rheostat.Variant = flags.variant("checkout-copy", user)
    evaluation: rheostat.Evaluation = flags.evaluate("limit", user, default=10)
    reason: rheostat.Reason = evaluation.reason
    code: rheostat.ErrorCode | None = evaluation.error_code
    rendered: dict[str, object] = variant.to_unleash()
    keys: list[str] = flags.keys()
    by_key: bool = flags.is_enabled("new-checkout", "user-42")  # a str is the context's key
    del enabled, reason, code, rendered, keys, by_key
