"""``make bench``: flag evaluation, delivery (client overhead, propagation), server throughput
(``remote_eval.py``), A/A statistics.

Run it with the bench interpreter (``.bench-venv``, which has rheostat and the peer SDKs);
arguments go to the flag benchmark (``--repeats``, ``--min-time``, ``--only``, ``--json``).
``make bench BENCH_ARGS="backfill ..."`` runs the backfill benchmark on PostgreSQL instead
(``benchmarks/backfill.py``: ``--postgres-url``, ``--rows``, ``--json``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import flag_eval  # noqa: E402  # needs HERE on the path first


def main() -> int:
    """Run every benchmark; the exit code is the first failure's, else 0."""
    if sys.argv[1:2] == ["backfill"]:
        import backfill  # only this benchmark needs psycopg and a server

        return backfill.main(sys.argv[2:])
    status = flag_eval.main(sys.argv[1:])
    print(f"\n{'=' * 100}\ndelivery.py\n", flush=True)
    delivery = HERE / "delivery.py"
    status = status or subprocess.run([sys.executable, str(delivery)], check=False).returncode  # noqa: S603  # our own script
    print(f"\n{'=' * 100}\nremote_eval.py\n", flush=True)
    remote_eval = HERE / "remote_eval.py"
    status = status or subprocess.run([sys.executable, str(remote_eval)], check=False).returncode  # noqa: S603  # our own script
    stats_aa = HERE / "stats_aa.py"
    if stats_aa.exists():
        print(f"\n{'=' * 100}\n{stats_aa.name}\n", flush=True)
        aa_status = subprocess.run([sys.executable, str(stats_aa)], check=False).returncode  # noqa: S603  # our own script
        status = status or aa_status
    return status


if __name__ == "__main__":
    sys.exit(main())
