"""Backfill throughput on PostgreSQL, against the physical floor, in one run on one server.

For each table size the script, in a fresh database of its own:

1. fills ``bench_source`` (id, title, body) with ``generate_series`` and analyses it;
2. **floor**: one ``INSERT INTO bench_target SELECT id, title, length(body) FROM
   bench_source``, the fastest a copy into the same indexed table can go (no batches, no
   checkpoint, one transaction holding everything);
3. **rheostat**: ``BackfillRunner.run()`` with the default settings (1,000-row first batch,
   adaptive towards 0.5 s per batch, checkpoint in each batch's transaction, progress
   mirrored into a SQLite store, as ``rheostat backfill run`` does);
4. **rheostat, no store**: the same without the store mirror (the mirror's overhead);
5. **fixed 1,000-row batches**: the same engine held at pgroll's and Reshape's fixed size;
6. **verify**: ``BackfillRunner.verify()`` over the copy (checksums computed in PostgreSQL).

Each copy starts from an empty, truncated target; each measurement is repeated (``--repeats``,
3) and the best run kept, as the machine may be shared; each verify follows its own fresh copy.
Rates are rows per second of wall time; ratios are against the floor measured in the same run.
Nothing asserts on time: the targets (at least 50% of the floor, flat as the table grows,
verify 3x faster than the copy) are printed as PASS/MISS.

    python benchmarks/backfill.py --postgres-url postgresql://postgres@127.0.0.1:5432/postgres \
        --rows 10000,100000,300000,1000000 [--json results.json]

``make bench BENCH_ARGS="backfill --rows 10000,300000"`` runs it with the bench interpreter;
the URL comes from ``--postgres-url``, else ``$RHEOSTAT_BENCH_POSTGRES_URL``, else
``$RHEOSTAT_TEST_POSTGRES_URL``.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from rheostat.backfill import job_from_dict
from rheostat.runner import CHECKPOINT_TABLE, BackfillRunner
from rheostat.service import migrate_database, open_store

DEFAULT_ROWS = (10_000, 100_000, 300_000, 1_000_000)
FLOOR_SHARE_TARGET = 0.5
VERIFY_SPEEDUP_TARGET = 3.0
JUDGED_FROM_ROWS = 100_000
FLATNESS_TARGET = 0.8
"""The largest table's rate must keep this share of the rate at 100k rows ("flat")."""


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print a table (and write JSON when asked)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres-url", default=_default_url())
    parser.add_argument(
        "--rows",
        default=",".join(str(n) for n in DEFAULT_ROWS),
        help="table sizes, comma-separated",
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement; best kept")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if not args.postgres_url:
        print("backfill benchmark: no PostgreSQL (pass --postgres-url)", file=sys.stderr)
        return 2
    sizes = [int(part) for part in args.rows.split(",") if part.strip()]
    results = []
    with _database(args.postgres_url) as url, tempfile.TemporaryDirectory() as folder:
        store_url = f"sqlite:///{Path(folder) / 'rheostat.db'}"
        migrate_database(store_url)
        for rows in sizes:
            results.append(_measure(url, store_url, rows, args.repeats))
            _print_row(results[-1], first=len(results) == 1)
    verdicts = _verdicts(results)
    for line in verdicts:
        print(line)
    if args.json:
        args.json.write_text(json.dumps({"results": results, "verdicts": verdicts}, indent=2))
    return 0


def _default_url() -> str | None:
    return os.environ.get("RHEOSTAT_BENCH_POSTGRES_URL") or os.environ.get(
        "RHEOSTAT_TEST_POSTGRES_URL"
    )


@contextmanager
def _database(server_url: str) -> Iterator[str]:
    """A fresh database on the server, dropped afterwards."""
    name = f"rheostat_bench_{secrets.token_hex(4)}"
    libpq = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(libpq, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    base, _, _ = libpq.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(libpq, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _measure(url: str, store_url: str, rows: int, repeats: int) -> dict[str, Any]:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("DROP TABLE IF EXISTS bench_source, bench_target")
        connection.execute(f"DROP TABLE IF EXISTS {CHECKPOINT_TABLE}")
        connection.execute(
            "CREATE TABLE bench_source (id bigint PRIMARY KEY, title text, body text)"
        )
        connection.execute(
            "CREATE TABLE bench_target (id bigint PRIMARY KEY, title text, body_length int)"
        )
        connection.execute(
            "INSERT INTO bench_source SELECT n, 'title ' || n, repeat('x', (n %% 200)::int) "
            "FROM generate_series(1, %s) AS n",
            (rows,),
        )
        connection.execute("VACUUM ANALYZE bench_source")

        def reset() -> None:
            connection.execute("TRUNCATE bench_target")
            connection.execute(f"DROP TABLE IF EXISTS {CHECKPOINT_TABLE}")
            connection.execute("VACUUM ANALYZE bench_target")

        def floor_copy() -> None:
            connection.execute(
                "INSERT INTO bench_target SELECT id, title, length(body) FROM bench_source"
            )

        store = open_store(store_url)
        try:
            floor = _best(repeats, rows, reset, floor_copy)
            copies, verifies = [], []
            for _ in range(repeats):  # each verify right after its own fresh copy, as in use
                reset()
                copies.append(_timed(lambda: _run(url, rows, store=store, name=f"b-{rows}"), rows))
                verifies.append(_timed(lambda: _verify(url, rows, name=f"b-{rows}"), rows))
            copy, verify = max(copies), max(verifies)
            bare = _best(
                repeats, rows, reset, lambda: _run(url, rows, store=None, name=f"bare-{rows}")
            )
            fixed = _best(
                repeats,
                rows,
                reset,
                lambda: _run(url, rows, store=None, name=f"fixed-{rows}", fixed=True),
            )
        finally:
            store.close()
    floor_rate = floor
    return {
        "rows": rows,
        "floor_rows_per_second": floor_rate,
        "rheostat_rows_per_second": copy,
        "rheostat_share_of_floor": copy / floor_rate,
        "rheostat_without_store_rows_per_second": bare,
        "store_mirror_overhead": 1 - copy / bare,
        "fixed_1000_rows_per_second": fixed,
        "fixed_1000_share_of_floor": fixed / floor_rate,
        "verify_rows_per_second": verify,
        "verify_speedup_over_copy": verify / copy,
    }


def _job(url: str, name: str, *, fixed: bool) -> dict[str, Any]:
    return {
        "backfill": name,
        "source": {"url": url, "table": "bench_source", "key": "id"},
        "target": {"url": url, "table": "bench_target", "key": "id"},
        "columns": {"id": "id", "title": "title", "body_length": "length(body)"},
        **({"batch": {"size": 1000, "target_seconds": 0}} if fixed else {}),
    }


def _run(url: str, rows: int, *, store: Any, name: str, fixed: bool = False) -> None:
    with BackfillRunner(job_from_dict(_job(url, name, fixed=fixed), {}), store=store) as runner:
        result = runner.run()
    if result.rows_done != rows:
        raise SystemExit(f"{name}: copied {result.rows_done} rows of {rows}")


def _verify(url: str, rows: int, *, name: str) -> None:
    job = job_from_dict(_job(url, name, fixed=True), {})
    with BackfillRunner(job) as runner:
        outcome = runner.verify()
    if not outcome.identical or outcome.report.source_rows != rows:
        raise SystemExit(f"{name}: verify found differences")


def _best(repeats: int, rows: int, reset: Callable[[], None], work: Callable[[], None]) -> float:
    """The best rate of ``repeats`` runs, each on an empty target (the machine may be shared:
    the best run is the one least disturbed)."""
    rates = []
    for _ in range(repeats):
        reset()
        rates.append(_timed(work, rows))
    return max(rates)


def _timed(work: Callable[[], None], rows: int) -> float:
    started = time.perf_counter()
    work()
    return rows / (time.perf_counter() - started)


def _print_row(result: dict[str, Any], *, first: bool) -> None:
    if first:
        print(
            f"{'rows':>10} {'floor r/s':>11} {'rheostat':>10} {'share':>6} {'no store':>10} "
            f"{'mirror':>7} {'fixed1k':>9} {'share':>6} {'verify r/s':>11} {'v/copy':>7}"
        )
    print(
        f"{result['rows']:>10,} {result['floor_rows_per_second']:>11,.0f} "
        f"{result['rheostat_rows_per_second']:>10,.0f} "
        f"{result['rheostat_share_of_floor']:>6.0%} "
        f"{result['rheostat_without_store_rows_per_second']:>10,.0f} "
        f"{result['store_mirror_overhead']:>7.1%} "
        f"{result['fixed_1000_rows_per_second']:>9,.0f} "
        f"{result['fixed_1000_share_of_floor']:>6.0%} "
        f"{result['verify_rows_per_second']:>11,.0f} "
        f"{result['verify_speedup_over_copy']:>6.1f}x",
        flush=True,
    )


def _verdicts(results: list[dict[str, Any]]) -> list[str]:
    if not results:
        return []
    # The targets are for 100k rows and more: below, a run's fixed cost (connecting,
    # reading the target's schema, counting) is most of the time, and is reported, not judged.
    judged = [r for r in results if r["rows"] >= JUDGED_FROM_ROWS] or results
    share = min(r["rheostat_share_of_floor"] for r in judged)
    flat = judged[-1]["rheostat_rows_per_second"] / judged[0]["rheostat_rows_per_second"]
    speedup = min(r["verify_speedup_over_copy"] for r in judged)

    def mark(ok: bool) -> str:
        return "PASS" if ok else "MISS"

    return [
        f"{mark(share >= FLOOR_SHARE_TARGET)} rheostat >= 50% of the floor (100k rows and up):"
        f" lowest {share:.0%}",
        f"{mark(flat >= FLATNESS_TARGET)} flat as the table grows: largest / 100k rows {flat:.2f}",
        f"{mark(speedup >= VERIFY_SPEEDUP_TARGET)} verify >= 3x the copy (100k rows and up):"
        f" lowest {speedup:.1f}x",
    ]


if __name__ == "__main__":
    sys.exit(main())
