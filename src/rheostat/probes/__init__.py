"""The probes of the ``outside`` check kinds: network, files, processes and Python code.

``outside_probes(clock)`` returns them by kind, for a ``rheostat.checks.Registry``. The
database kinds are probed by ``rheostat.service`` through the store (the only package that
talks to databases); this package never does.
"""

from __future__ import annotations

from rheostat.checks import Probe
from rheostat.clock import Clock
from rheostat.probes.code import probe_python
from rheostat.probes.host import backup_probe, probe_command, probe_disk_space
from rheostat.probes.sockets import probe_redis, probe_tcp
from rheostat.probes.web import probe_http, probe_prometheus

__all__ = ["outside_probes"]


def outside_probes(clock: Clock) -> dict[str, Probe]:
    """The built-in probes that need neither a database nor rheostat's store."""
    return {
        "http": probe_http,
        "prometheus_up": probe_prometheus,
        "tcp": probe_tcp,
        "redis": probe_redis,
        "backup_recent": backup_probe(clock),
        "disk_space": probe_disk_space,
        "command": probe_command,
        "python": probe_python,
    }
