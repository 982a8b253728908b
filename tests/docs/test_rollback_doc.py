"""The alert rule document of ``docs/rollback.md`` is valid, and its signature check agrees
with ``rheostat.webhook_signatures``."""

from __future__ import annotations

import re
import time
from pathlib import Path

import yaml

from rheostat.metrics.alert_rules import parse_alert_rules
from rheostat.webhook_signatures import sign

DOC = Path(__file__).resolve().parents[2] / "docs" / "rollback.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


def test_the_alert_rules_example_is_a_valid_document() -> None:
    documents = [yaml.safe_load(block) for block in _blocks("yaml")]
    rules = [doc for doc in documents if isinstance(doc, dict) and "rules" in doc]
    assert len(rules) == 1
    parsed = parse_alert_rules(rules[0])
    assert [rule.name for rule in parsed] == ["error-rate", "p95-latency", "cache-hit-rate"]


def test_the_standalone_verification_matches_the_signature() -> None:
    standalone = next(block for block in _blocks("python") if "def verify(" in block)
    namespace: dict[str, object] = {}
    exec(standalone, namespace)  # noqa: S102  # the documented code, run as written
    verify = namespace["verify"]
    body = b'{"type":"rollback.started"}'
    # the documented check compares with the real clock, so sign with it
    timestamp = str(int(time.time()))  # noqa: TID251
    signature = sign("a-secret-for-the-doc", int(timestamp), body)
    assert verify("a-secret-for-the-doc", body, signature, timestamp)  # type: ignore[operator]
    assert not verify("another-secret", body, signature, timestamp)  # type: ignore[operator]
