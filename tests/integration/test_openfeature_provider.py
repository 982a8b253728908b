"""``RheostatProvider`` through the OpenFeature SDK's own client, against real ``rheostat serve``
processes on loopback: values, reasons, errors, events, tracking."""

from __future__ import annotations

import json
import queue
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from live_servers import (
    Keys,
    LiveServer,
    free_port,
    post_as_admin,
    read_metric_totals,
    roll_out_flag,
    start_server,
)
from live_servers import rheostat as rheostat_cli
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.evaluation_context import EvaluationContext
from openfeature.event import EventDetails, ProviderEvent
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import Reason
from openfeature.provider import ProviderStatus
from openfeature.track import TrackingEventDetails

from rheostat.metrics import WindowKind
from rheostat.openfeature import RheostatProvider
from rheostat.sdk import SyncOptions

WAIT_S = 30.0
"""A guard against hanging, never a measurement."""
FAST = SyncOptions(grace_period_s=0.5, backoff_initial_s=0.05, backoff_max_s=0.2)

CHECKOUT = {
    "variants": {"on": True, "off": False},
    "default": "off",
    "targets": [{"variant": "on", "keys": ["vip"]}],
    "rules": [
        {"when": [{"attribute": "plan", "op": "eq", "values": ["pro"]}], "serve": "on"},
        {"when": [{"attribute": "plan", "op": "eq", "values": ["beta"]}],
         "serve": {"split": {"on": 50, "off": 50}}},
    ],
}  # fmt: skip
DEFINITIONS: dict[str, dict[str, Any]] = {
    "of-checkout": CHECKOUT,
    "of-banner": {"type": "string", "variants": {"blue": "Blue", "red": "Red"}, "default": "red"},
    "of-limit": {"type": "number", "variants": {"low": 10, "high": 20}, "default": "low"},
    "of-ratio": {"type": "number", "variants": {"half": 0.5}, "default": "half"},
    "of-layout": {"type": "json", "variants": {"grid": {"columns": 3}}, "default": "grid"},
    "of-off": {"enabled": False, "variants": {"on": True, "off": False}, "default": "off"},
}


@pytest.fixture(scope="module")
def server(live_server: LiveServer, live_database: tuple[str, Keys]) -> LiveServer:
    """The module's live server, holding the flags of ``DEFINITIONS``."""
    for key, definition in DEFINITIONS.items():
        body = {"key": key, "definition": definition}
        post_as_admin(live_server, live_database[1], "/api/v1/flags", body)
    return live_server


@pytest.fixture(autouse=True)
def _fresh_openfeature() -> Iterator[None]:
    yield
    api.clear_providers()


def _events(client: OpenFeatureClient, *events: ProviderEvent) -> queue.Queue[tuple[Any, ...]]:
    """Every event of these kinds the client's handlers receive, in order."""
    received: queue.Queue[tuple[Any, ...]] = queue.Queue()
    for event in events:
        client.add_handler(event, lambda details, event=event: received.put((event, details)))
    return received


def _next(received: queue.Queue[tuple[Any, ...]], event: ProviderEvent) -> EventDetails:
    """The next ``event``, skipping others (a guard of WAIT_S against hanging)."""
    while True:
        kind, details = received.get(timeout=WAIT_S)
        if kind is event:
            return details  # type: ignore[no-any-return]


def _user(key: str, **attributes: Any) -> EvaluationContext:
    return EvaluationContext(targeting_key=key, attributes=attributes)


def test_each_type_and_reason_through_the_sdk_client(
    server: LiveServer, live_database: tuple[str, Keys]
) -> None:
    # Given the provider of a live server, set and initialised through the OpenFeature API
    _, keys = live_database
    api.set_provider_and_wait(RheostatProvider.connect(url=server.url, api_key=keys.sdk_token))
    client = api.get_client()

    # When each type is asked for, down each evaluation path
    target = client.get_boolean_details("of-checkout", False, _user("vip"))
    rule = client.get_boolean_details("of-checkout", False, _user("u1", plan="pro"))
    split = client.get_boolean_details("of-checkout", False, _user("u1", plan="beta"))
    default = client.get_boolean_details("of-checkout", True, _user("u1", plan="free"))
    disabled = client.get_boolean_details("of-off", True, _user("u1"))
    banner = client.get_string_details("of-banner", "", _user("u1"))
    limit = client.get_integer_details("of-limit", 0, _user("u1"))
    ratio = client.get_float_details("of-ratio", 0.0, _user("u1"))
    layout = client.get_object_details("of-layout", {}, _user("u1"))

    # Then values, variants and reasons are the server's flags', with version and revision
    assert client.get_provider_status() is ProviderStatus.READY
    assert (target.value, target.variant, target.reason) == (True, "on", Reason.TARGETING_MATCH)
    assert (rule.value, rule.reason) == (True, Reason.TARGETING_MATCH)
    assert split.reason == Reason.SPLIT
    assert (default.value, default.variant, default.reason) == (False, "off", Reason.DEFAULT)
    assert (disabled.value, disabled.reason) == (False, Reason.DISABLED)
    assert (banner.value, banner.reason) == ("Red", Reason.STATIC)
    assert (limit.value, ratio.value, layout.value) == (10, 0.5, {"columns": 3})
    assert set(banner.flag_metadata) == {"version", "revision"}
    assert banner.flag_metadata["revision"] == api.get_client().provider.client.revision  # type: ignore[attr-defined]


def test_errors_through_the_sdk_client(server: LiveServer, live_database: tuple[str, Keys]) -> None:
    # Given the provider of a live server
    _, keys = live_database
    api.set_provider_and_wait(RheostatProvider.connect(url=server.url, api_key=keys.sdk_token))
    client = api.get_client()

    # When a flag is unknown, or asked as another type than it holds
    missing = client.get_string_details("of-missing", "fallback", _user("u1"))
    as_number = client.get_integer_details("of-banner", 3, _user("u1"))
    as_bool = client.get_boolean_details("of-layout", True, _user("u1"))

    # Then the caller's default comes back with the code
    assert (missing.value, missing.error_code) == ("fallback", ErrorCode.FLAG_NOT_FOUND)
    assert (as_number.value, as_number.error_code) == (3, ErrorCode.TYPE_MISMATCH)
    assert (as_bool.value, as_bool.reason, as_bool.error_code) == (
        True,
        Reason.ERROR,
        ErrorCode.TYPE_MISMATCH,
    )


def test_a_kill_through_the_admin_api_is_a_configuration_change(
    server: LiveServer, live_database: tuple[str, Keys]
) -> None:
    # Given a flag on for everyone, and the provider's client listening for changes
    _, keys = live_database
    roll_out_flag(server, keys, "of-kill", percent=100)
    api.set_provider_and_wait(RheostatProvider.connect(url=server.url, api_key=keys.sdk_token))
    client = api.get_client()
    received = _events(client, ProviderEvent.PROVIDER_CONFIGURATION_CHANGED)
    before = client.get_boolean_details("of-kill", False, _user("u1"))

    # When the flag is killed through the admin API
    post_as_admin(server, keys, "/api/v1/flags/of-kill/kill", {"reason": "5xx"})
    changed = _next(received, ProviderEvent.PROVIDER_CONFIGURATION_CHANGED)
    while "of-kill" not in (changed.flags_changed or []):  # an earlier test's change
        changed = _next(received, ProviderEvent.PROVIDER_CONFIGURATION_CHANGED)
    after = client.get_boolean_details("of-kill", True, _user("u1"))

    # Then the event names the flag and the revision, and the new value is served at once
    assert (before.value, before.reason) == (True, Reason.SPLIT)
    assert changed.flags_changed == ["of-kill"]
    assert changed.provider_name == "rheostat"
    assert changed.metadata["revision"] == after.flag_metadata["revision"]
    assert (after.value, after.reason) == (False, Reason.DISABLED)


def _backup_with_a_flag_on(path: Path, key: str) -> Path:
    on = {"enabled": True, "variants": {"on": True, "off": False}, "default": "on"}
    document = {"version": 1, "flags": {key: on}}
    path.write_text(json.dumps({"environment": None, "revision": 1, "document": document}))
    return path


def _start_two_providers(url: str, token: str, backup: Path) -> tuple[EventDetails, ...]:
    """Domain ``with-backup`` and domain ``without``; return their initialisation errors."""
    errors: queue.Queue[EventDetails] = queue.Queue()
    api.add_handler(ProviderEvent.PROVIDER_ERROR, errors.put)
    api.set_provider(
        RheostatProvider.connect(
            url=url, api_key=token, backup_path=backup, init_timeout=0.2, options=FAST
        ),
        domain="with-backup",
    )
    api.set_provider(
        RheostatProvider.connect(url=url, api_key=token, init_timeout=0.2), domain="without"
    )
    first, second = errors.get(timeout=WAIT_S), errors.get(timeout=WAIT_S)
    api.remove_handler(ProviderEvent.PROVIDER_ERROR, errors.put)
    return first, second


def test_a_start_with_the_server_down_is_an_error_then_ready_then_stale_and_error(
    live_database: tuple[str, Keys], tmp_path: Path
) -> None:
    # Given a backup file where a flag is on, and no server yet on the port
    database_url, keys = live_database
    port = free_port()
    backup = _backup_with_a_flag_on(tmp_path / "flags.json", "of-backup")

    # When a provider with the backup, and one without, start with the server down
    first, second = _start_two_providers(f"http://127.0.0.1:{port}", keys.sdk_token, backup)
    client, without = api.get_client("with-backup"), api.get_client("without")
    stale = client.get_boolean_details("of-backup", False, _user("u1"))
    nothing = without.get_boolean_details("of-backup", False, _user("u1"))
    status_at_start = client.get_provider_status()
    received = _events(
        client,
        ProviderEvent.PROVIDER_READY,
        ProviderEvent.PROVIDER_STALE,
        ProviderEvent.PROVIDER_ERROR,
    )
    _next(received, ProviderEvent.PROVIDER_ERROR)  # the immediate one: ERROR now

    # and then a server of the database starts, where the flag is off, and stops again
    rheostat_cli("flags", "set", "of-backup", database_url=database_url)
    with start_server(database_url, port=port):
        _next(received, ProviderEvent.PROVIDER_READY)
        status_up = client.get_provider_status()
        current = client.get_boolean_details("of-backup", True, _user("u1"))
    went_stale = _next(received, ProviderEvent.PROVIDER_STALE)
    went_error = _next(received, ProviderEvent.PROVIDER_ERROR)
    status_down = client.get_provider_status()
    while_down = client.get_boolean_details("of-backup", True, _user("u1"))

    # Then initialisation failed as not ready: the backup was served as STALE, nothing as the
    # default with PROVIDER_NOT_READY
    assert {first.error_code, second.error_code} == {ErrorCode.PROVIDER_NOT_READY}
    assert status_at_start is ProviderStatus.ERROR
    assert (stale.value, stale.reason, stale.error_code) == (True, Reason.STALE, None)
    assert (nothing.value, nothing.error_code) == (False, ErrorCode.PROVIDER_NOT_READY)
    # once the server answered the provider was READY with its flags
    assert status_up is ProviderStatus.READY
    assert (current.value, current.error_code) == (False, None)
    # and when it stopped, STALE, then ERROR (not FATAL), still serving the last flags
    assert "stale" in (went_stale.message or "")
    assert (went_error.error_code, status_down) == (ErrorCode.GENERAL, ProviderStatus.ERROR)
    assert (while_down.value, while_down.error_code) == (False, None)


def test_tracking_reaches_the_metric_windows_of_the_variants_served(
    server: LiveServer, live_database: tuple[str, Keys]
) -> None:
    # Given a flag ramped to 50 % and the provider of the server
    database_url, keys = live_database
    roll_out_flag(server, keys, "of-tracked", percent=50)
    api.set_provider_and_wait(RheostatProvider.connect(url=server.url, api_key=keys.sdk_token))
    client = api.get_client()
    users = [f"user-{index}" for index in range(100)]
    served = {user: client.get_boolean_value("of-tracked", False, _user(user)) for user in users}

    # When each user's latency is tracked through the SDK's client, and the provider shuts down
    for index, user in enumerate(users):
        client.track("latency_ms", _user(user), TrackingEventDetails(value=float(index)))
    api.shutdown()  # closing the provider's client flushes the open window

    # Then the stored windows hold every observation, under the variant each user was served
    totals = read_metric_totals(database_url, "of-tracked", "latency_ms")
    on = [index for index, user in enumerate(users) if served[user]]
    mean = WindowKind.MEAN
    assert (totals[("on", mean)].n, totals[("on", mean)].sum) == (len(on), float(sum(on)))
    assert totals[("off", mean)].n == len(users) - len(on)
