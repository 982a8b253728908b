"""Where webhooks may point: never at link-local or cloud metadata addresses, and at private
and loopback ones only while ``RHEOSTAT_WEBHOOK_ALLOW_PRIVATE`` is true (the default).

Review finding: an admin could point a webhook at 169.254.169.254 (a cloud's metadata
service) or any private range, and the dispatcher would POST there. Checked when a webhook is
registered (422 naming ``url``) and again at each delivery, after DNS resolution, on the
address the request is then sent to. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from rheostat import service
from rheostat.api import create_app
from rheostat.cli import app as cli_app
from rheostat.clock import FixedClock
from rheostat.errors import ValidationError
from rheostat.service import (
    Change,
    DeliveryStatus,
    DispatchPolicy,
    RollbackMode,
    RollbackRequest,
    SqlStore,
    transact,
)
from rheostat.settings import Settings
from rheostat.store.operations_records import Webhook

ENV = "production"
FLAG = "hybrid_search"
SECRET = "a-secret-of-32-characters-long!!"  # noqa: S105  # a test secret
SETUP = Change(actor="setup")

ALWAYS_REFUSED = [
    "http://169.254.169.254/latest/meta-data/",
    "http://169.254.170.2/v2/credentials",
    "http://[fe80::1]/hook",
    "http://[::ffff:169.254.169.254]/hook",
    "http://2852039166/hook",  # 169.254.169.254 written as one number
    "http://0xa9.0xfe.0xa9.0xfe/hook",
    "http://100.100.100.200/latest/meta-data/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://0.0.0.0:8000/hook",
    "http://224.0.0.1/hook",
]
PRIVATE = [
    "http://127.0.0.1:9/hook",
    "http://[::1]:9/hook",
    "http://localhost:8080/hook",
    "http://10.0.0.5/hook",
    "http://192.168.1.20/hook",
    "http://172.16.0.1/hook",
]
PUBLIC = ["https://hooks.example.com/rheostat", "http://93.184.216.34/hook"]


def _create(store: SqlStore, url: str, **options: object) -> str:
    created = transact(store, service.create_webhook, url, secret=SECRET, change=SETUP, **options)
    return created.webhook.id


@pytest.mark.parametrize("allow_private", [True, False])
@pytest.mark.parametrize("url", ALWAYS_REFUSED)
def test_link_local_metadata_and_non_unicast_urls_are_refused_whatever_the_setting(
    store: SqlStore, url: str, allow_private: bool
) -> None:
    with pytest.raises(ValidationError) as refused:
        _create(store, url, allow_private=allow_private)
    assert refused.value.details["field"] == "url"


@pytest.mark.parametrize("url", PRIVATE)
def test_private_and_loopback_urls_are_allowed_unless_the_setting_says_no(
    store: SqlStore, url: str
) -> None:
    assert _create(store, url).startswith("wh_")
    with pytest.raises(ValidationError, match="RHEOSTAT_WEBHOOK_ALLOW_PRIVATE") as refused:
        _create(store, url, allow_private=False)
    assert refused.value.details["field"] == "url"


@pytest.mark.parametrize("url", PUBLIC)
def test_public_urls_are_allowed_either_way(store: SqlStore, url: str) -> None:
    assert _create(store, url, allow_private=False).startswith("wh_")


@pytest.fixture
def admin(store: SqlStore) -> dict[str, str]:
    key = transact(store, service.create_api_key, name="ops", scope="admin", change=SETUP)
    return {"Authorization": f"Bearer {key.token}"}


def _api(store_url: str, clock: FixedClock, **settings: object) -> TestClient:
    app = create_app(
        Settings(database_url=store_url, deliver_webhooks=False, **settings), clock=clock
    )
    return TestClient(app)


def test_the_api_answers_422_naming_the_url(
    store_url: str, store: SqlStore, clock: FixedClock, admin: dict[str, str]
) -> None:
    # Given the default settings, then RHEOSTAT_WEBHOOK_ALLOW_PRIVATE=false
    with (
        _api(store_url, clock) as default,
        _api(store_url, clock, webhook_allow_private=False) as strict,
    ):
        # When a webhook is registered for the metadata service, and one for a private address
        metadata = default.post(
            "/api/v1/webhooks", json={"url": "http://169.254.169.254/x"}, headers=admin
        )
        loopback = default.post(
            "/api/v1/webhooks", json={"url": "http://127.0.0.1:9/x"}, headers=admin
        )
        private = strict.post("/api/v1/webhooks", json={"url": "http://10.0.0.5/x"}, headers=admin)

    # Then both refusals are 422 naming the field; loopback is fine by default
    for refused in (metadata, private):
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["details"]["field"] == "url"
    assert "link-local" in metadata.json()["error"]["message"]
    assert loopback.status_code == 201, loopback.text


def test_the_cli_follows_the_setting(sqlite_url: str) -> None:
    service.migrate_database(sqlite_url)
    strict = CliRunner(env={"RHEOSTAT_WEBHOOK_ALLOW_PRIVATE": "false", "COLUMNS": "200"})
    refused = strict.invoke(
        cli_app, ["webhooks", "add", "http://10.0.0.5/x", "--database-url", sqlite_url]
    )
    assert refused.exit_code != 0
    assert "RHEOSTAT_WEBHOOK_ALLOW_PRIVATE" in refused.output


# Delivery: the address the name resolves to at that moment is checked, and used -----------


@pytest.fixture
def flagged(store: SqlStore) -> SqlStore:
    transact(store, service.create_environment, ENV, change=SETUP)
    transact(store, service.create_flag, ENV, FLAG, {}, change=SETUP)
    transact(store, service.set_rollout_percentage, ENV, FLAG, 40, change=SETUP)
    return store


class _Receiver:
    """A transport that records what would have been sent, and answers 200."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.transport = httpx.MockTransport(self._answer)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200)


@pytest.fixture
def receiver() -> _Receiver:
    return _Receiver()


def _resolving_to(*addresses: str) -> object:
    def resolve(host: str, port: int) -> Sequence[str]:
        assert (host, port) == ("hooks.internal.test", 8080)
        return list(addresses)

    return resolve


def _roll_back(store: SqlStore) -> None:
    request = RollbackRequest(mode=RollbackMode.IMMEDIATE)
    transact(store, service.rollback_flag, ENV, FLAG, request, change=SETUP)


@pytest.mark.parametrize(
    ("addresses", "allow_private"),
    [
        (["169.254.169.254"], True),
        (["93.184.216.34", "169.254.169.254"], True),  # any bad answer refuses
        (["10.1.2.3"], False),
    ],
)
def test_a_name_that_resolves_to_a_refused_address_is_not_sent_to(
    flagged: SqlStore, receiver: _Receiver, addresses: list[str], allow_private: bool
) -> None:
    # Given a webhook on a name, and a rollback to deliver
    hook = _create(flagged, "http://hooks.internal.test:8080/hook", events=["rollback.started"])
    _roll_back(flagged)

    # When the name resolves to a refused address at delivery
    policy = DispatchPolicy(allow_private=allow_private)
    report = service.deliver_webhooks(
        flagged, policy, transport=receiver.transport, resolve=_resolving_to(*addresses)
    )

    # Then nothing was sent; the attempt says why and is retried (DNS answers may change)
    assert receiver.requests == []
    assert report.retrying == 1
    [delivery] = transact(flagged, service.webhook_deliveries, hook)
    assert delivery.status is DeliveryStatus.PENDING
    assert delivery.attempts == 1
    assert "refused" in (delivery.last_error or "")
    assert addresses[-1] in (delivery.last_error or "")


def test_a_delivery_goes_to_the_address_that_was_checked(
    flagged: SqlStore, receiver: _Receiver
) -> None:
    # Given a webhook on a name that resolves to a loopback address (allowed by default)
    hook = _create(flagged, "http://hooks.internal.test:8080/hook", events=["rollback.started"])
    _roll_back(flagged)

    # When it is delivered
    report = service.deliver_webhooks(
        flagged, transport=receiver.transport, resolve=_resolving_to("127.0.0.1")
    )

    # Then the request went to that address (no second lookup), for the webhook's host
    assert report.delivered == 1
    [sent] = receiver.requests
    assert (sent.url.host, sent.url.port, sent.url.path) == ("127.0.0.1", 8080, "/hook")
    assert sent.headers["Host"] == "hooks.internal.test:8080"
    [delivery] = transact(flagged, service.webhook_deliveries, hook)
    assert delivery.status is DeliveryStatus.DELIVERED


def test_a_webhook_stored_before_the_check_is_refused_at_delivery(
    flagged: SqlStore, receiver: _Receiver
) -> None:
    # Given a metadata URL stored as an older version would have stored it
    with flagged.unit_of_work() as uow:
        old = Webhook(
            id="wh_old-metadata",
            url="http://169.254.169.254/latest/meta-data/",
            events=("rollback.started",),
            environment=None,
            description="",
            created_at=uow.now,
            created_by="before",
        )
        uow.webhooks.add(old, secret=SECRET)
    _roll_back(flagged)

    # When the dispatcher runs / Then it sends nothing there
    report = service.deliver_webhooks(flagged, transport=receiver.transport)
    assert receiver.requests == []
    assert report.retrying == 1
