"""``webhook_targets``: which addresses webhooks may reach, on plain values (no resolver)."""

from __future__ import annotations

from ipaddress import ip_address

import pytest

from rheostat.service.webhook_targets import address_problem, resolve_target


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254",
        "fe80::1",
        "::ffff:169.254.169.254",  # IPv4-mapped
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "100.100.100.200",
        "fd00:ec2::254",
        "0.0.0.0",  # noqa: S104  # refused, not bound
        "::",
        "255.255.255.255",
        "ff02::1",
    ],
)
def test_never_allowed(address: str) -> None:
    for allow_private in (True, False):
        assert address_problem(ip_address(address), allow_private=allow_private) is not None


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "::1", "10.1.2.3", "fd12::1", "100.64.0.1", "::ffff:10.0.0.1"]
)
def test_private_only_when_allowed(address: str) -> None:
    assert address_problem(ip_address(address), allow_private=True) is None
    problem = address_problem(ip_address(address), allow_private=False)
    assert problem is not None
    assert "RHEOSTAT_WEBHOOK_ALLOW_PRIVATE" in problem


def test_a_resolver_that_fails_or_answers_nonsense_refuses_without_raising() -> None:
    def broken(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    def nonsense(host: str, port: int) -> list[str]:
        return ["not-an-address"]

    for resolve in (broken, nonsense, lambda host, port: []):
        resolved = resolve_target("hooks.test", 443, allow_private=True, resolve=resolve)
        assert resolved.addresses == ()
        assert (resolved.refusal or "").startswith("cannot resolve hooks.test")


def test_an_address_host_is_not_resolved() -> None:
    def unused(host: str, port: int) -> list[str]:
        raise AssertionError("an address needs no lookup")

    resolved = resolve_target("93.184.216.34", 443, allow_private=False, resolve=unused)
    assert resolved.addresses == ("93.184.216.34",)
