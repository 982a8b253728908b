"""``docs/operations.md`` lists exactly the metrics ``GET /metrics`` exposes, and only settings
that exist."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from rheostat import service
from rheostat.api import create_app
from rheostat.settings import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def _documented_metrics() -> set[str]:
    return set(re.findall(r"^\| `(rheostat_[a-z_]+)` \|", DOC.read_text(), flags=re.MULTILINE))


def test_the_documented_metrics_are_the_exposed_ones(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rheostat.db'}"
    service.migrate_database(url)
    with TestClient(create_app(Settings(database_url=url))) as client:
        client.get("/health")
        text = client.get("/metrics").text
    exposed = {
        family.name + ("_total" if family.type == "counter" else "")
        for family in text_string_to_metric_families(text)
        if family.name.startswith("rheostat_") and not family.name.endswith("_created")
    }
    assert _documented_metrics() == exposed


def test_the_documented_settings_exist() -> None:
    named = set(re.findall(r"`RHEOSTAT_([A-Z_]+)`", DOC.read_text()))
    assert named
    assert {name.lower() for name in named} <= set(Settings.model_fields)
