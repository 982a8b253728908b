"""Where webhooks may be sent: the address checks at registration and at every delivery.

Always refused, whatever the settings: link-local addresses (``169.254.0.0/16``,
``fe80::/10``: where clouds serve instance metadata and credentials, 169.254.169.254), the
metadata services outside them (``100.100.100.200``, ``fd00:ec2::254``,
``metadata.google.internal``), and what is not one host's unicast address (``0.0.0.0``,
``::``, multicast, reserved). Loopback and private addresses (``127.0.0.0/8``, ``::1``,
``10/8``, ``172.16/12``, ``192.168/16``, ``100.64/10``, ``fc00::/7``, ...) are allowed while
``allow_private`` is true (``RHEOSTAT_WEBHOOK_ALLOW_PRIVATE``, the default: receivers are
often internal services, and tests and demos listen on 127.0.0.1). Public addresses always
are. An IPv4 address inside IPv6 (``::ffff:a.b.c.d``, NAT64 ``64:ff9b::a.b.c.d``) is judged as
that IPv4 address.

Registration checks the URL's host when it is an address (in any form a resolver accepts:
``2852039166`` is 169.254.169.254) or a known name; a name is resolved only at delivery, where
every address it resolves to is checked and the request goes to one of those, so the answer
that was checked is the one connected to.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from urllib.parse import urlsplit

__all__ = [
    "ALLOW_PRIVATE_SETTING",
    "Resolve",
    "Resolved",
    "address_problem",
    "host_problem",
    "resolve_host",
    "resolve_target",
    "url_problem",
]

IPAddress = IPv4Address | IPv6Address
Resolve = Callable[[str, int], Sequence[str]]
"""``(host, port) -> addresses``: how a delivery resolves a webhook's host."""

ALLOW_PRIVATE_SETTING = "RHEOSTAT_WEBHOOK_ALLOW_PRIVATE"
_METADATA_ADDRESSES = frozenset({ip_address("100.100.100.200"), ip_address("fd00:ec2::254")})
_METADATA_NAMES = frozenset({"metadata.google.internal", "metadata.goog"})
_NAT64 = ip_network("64:ff9b::/96")
_LOW_32_BITS = 0xFFFFFFFF


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolved:
    """A host's addresses at delivery, all allowed; or why nothing may be sent to it."""

    addresses: tuple[str, ...] = ()
    refusal: str | None = None


def address_problem(address: IPAddress, *, allow_private: bool) -> str | None:
    """Why webhooks may not be sent to ``address``, or ``None`` when they may."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return address_problem(embedded, allow_private=allow_private)
    if address.is_link_local or address in _METADATA_ADDRESSES:
        return f"{address} is a link-local or cloud metadata address (always refused)"
    if address.is_loopback:  # before is_reserved: ::1 lies in the reserved ::/8
        return None if allow_private else _private(address)
    if address.is_unspecified or address.is_multicast or address.is_reserved:
        return f"{address} is not the address of one host (always refused)"
    if address.is_global or allow_private:
        return None
    return _private(address)


def _private(address: IPAddress) -> str:
    return (
        f"{address} is a private or loopback address"
        f" (refused while {ALLOW_PRIVATE_SETTING} is false)"
    )


def host_problem(host: str, *, allow_private: bool) -> str | None:
    """Why a URL's ``host`` is refused without resolving it (an address, or a known name)."""
    address = _address_of(host)
    if address is not None:
        return address_problem(address, allow_private=allow_private)
    name = host.rstrip(".").lower()
    if name in _METADATA_NAMES:
        return f"{host} is a cloud metadata service (always refused)"
    if not allow_private and (name == "localhost" or name.endswith(".localhost")):
        return f"{host} is a loopback name (refused while {ALLOW_PRIVATE_SETTING} is false)"
    return None


def url_problem(url: str, *, allow_private: bool) -> str | None:
    """Why webhooks may not be registered for ``url`` (an http(s) URL with a host)."""
    host = urlsplit(url).hostname
    return None if host is None else host_problem(host, allow_private=allow_private)


def resolve_target(host: str, port: int, *, allow_private: bool, resolve: Resolve) -> Resolved:
    """Resolve ``host`` now and check every address: one refused address refuses them all
    (a resolver may answer with several, and any may be connected to)."""
    problem = host_problem(host, allow_private=allow_private)
    if problem is not None:
        return Resolved(refusal=f"refused: {problem}")
    literal = _address_of(host)
    try:
        answers = (
            [literal]
            if literal is not None
            else [_address_of_answer(a) for a in resolve(host, port)]
        )
    except (OSError, ValueError) as error:
        return Resolved(refusal=f"cannot resolve {host}: {error}")
    if not answers:
        return Resolved(refusal=f"cannot resolve {host}: no address")
    for answer in answers:
        problem = address_problem(answer, allow_private=allow_private)
        if problem is not None:
            return Resolved(refusal=f"refused: {host} resolves to a refused address: {problem}")
    return Resolved(addresses=tuple(dict.fromkeys(str(answer) for answer in answers)))


def resolve_host(host: str, port: int) -> list[str]:
    """The system resolver's addresses for ``host`` (the default ``Resolve``)."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def _address_of(host: str) -> IPAddress | None:
    """``host`` as an address: IPv4 or IPv6 text, or an IPv4 form that resolvers accept
    (``inet_aton``: one number, hexadecimal or octal parts, fewer than four parts)."""
    try:
        return ip_address(host)
    except ValueError:
        pass
    try:
        return IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def _address_of_answer(answer: str) -> IPAddress:
    return ip_address(answer.split("%", 1)[0])  # a link-local answer may carry its zone


def _embedded_ipv4(address: IPAddress) -> IPv4Address | None:
    if not isinstance(address, IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return IPv4Address(int(address) & _LOW_32_BITS)
    return None
