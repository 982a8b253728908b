"""``tcp`` and ``redis``: a connection (and a PING) over a plain socket."""

from __future__ import annotations

import socket

from rheostat.checks import CheckSpec, Finding

__all__ = ["probe_redis", "probe_tcp"]


def probe_tcp(check: CheckSpec) -> Finding:
    """Pass when a TCP connection to ``host:port`` opens within the timeout."""
    host, port = check.params["host"], check.params["port"]
    try:
        with socket.create_connection((host, port), timeout=check.timeout_seconds):
            pass
    except OSError as error:
        return Finding.failed(
            f"{host}:{port} refused or did not answer: {error}", host=host, port=port
        )
    return Finding.passed(f"{host}:{port} accepts connections", host=host, port=port)


def probe_redis(check: CheckSpec) -> Finding:
    """Pass when Redis answers ``PING`` with ``+PONG`` (after ``AUTH`` when a password is set)."""
    host, port = check.params["host"], check.params["port"]
    evidence = {"host": host, "port": port}
    try:
        with socket.create_connection((host, port), timeout=check.timeout_seconds) as connection:
            stream = connection.makefile("rwb")
            password = check.params.get("password")
            if password is not None:
                stream.write(_command("AUTH", password))
                stream.flush()
                answer = stream.readline().strip()
                if not answer.startswith(b"+OK"):
                    return Finding.failed(f"Redis refused AUTH: {_text(answer)}", **evidence)
            stream.write(_command("PING"))
            stream.flush()
            reply = stream.readline().strip()
    except OSError as error:
        return Finding.failed(f"Redis at {host}:{port} did not answer: {error}", **evidence)
    if reply != b"+PONG":
        return Finding.failed(f"Redis answered {_text(reply)!r} to PING", **evidence)
    return Finding.passed(f"Redis at {host}:{port} answered PONG", **evidence)


def _command(*words: str) -> bytes:
    """A command in RESP, Redis's protocol: an array of bulk strings."""
    parts = [f"*{len(words)}\r\n".encode()]
    for word in words:
        data = word.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def _text(reply: bytes) -> str:
    return reply.decode("utf-8", "replace")[:200] or "nothing"
