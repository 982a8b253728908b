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
6. **verify**: ``BackfillRunner.verify()`` over the copy (checksums computed in PostgreSQL),
   with its rate over the copy's (``verify/copy``, target 3x);

and then, once, on the largest table (``--oltp``, on by default):

7. **OLTP slowdown**: two client threads run short transactions (a point ``UPDATE`` and a point
   ``SELECT`` on ``bench_oltp``, 10,000 rows, 5 ms think time between transactions) alone,
   then while a ``rheostat backfill run`` process copies the table (from its first batch to
   its end), unthrottled and with
   ``throttle: {nice_ratio: ...}``; the slowdown is the rise of the mean transaction latency
   over the mean of the alone runs before and after (same run, same server).

Each copy starts from an empty, truncated target; each measurement is repeated (``--repeats``,
3) and the best run kept, as the machine may be shared; each verify follows its own fresh copy.
Rates are rows per second of wall time; ratios are against the floor measured in the same run.
Nothing asserts on time: the targets (at least 50% of the floor, flat as the table grows,
verify 3x faster than the copy, under 10% OLTP slowdown when throttled) are printed as
PASS/MISS.

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
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
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
OLTP_SLOWDOWN_TARGET = 0.10
OLTP_THREADS = 2
OLTP_ROWS = 10_000
OLTP_THINK_SECONDS = 0.005
OLTP_ALONE_SECONDS = 5.0
NICE_RATIOS = (1.0, 3.0)
"""The throttles measured against the OLTP workload (``throttle.nice_ratio``)."""


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
    parser.add_argument(
        "--oltp",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="measure the slowdown of an OLTP workload on the largest table",
    )
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
        oltp = _oltp(url, store_url, max(sizes), Path(folder)) if args.oltp and sizes else []
    verdicts = _verdicts(results) + _oltp_verdicts(oltp)
    for line in verdicts:
        print(line)
    if args.json:
        document = {"results": results, "oltp": oltp, "verdicts": verdicts}
        args.json.write_text(json.dumps(document, indent=2))
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


def _oltp(url: str, store_url: str, rows: int, folder: Path) -> list[dict[str, Any]]:
    """The OLTP workload alone, then during a backfill of the ``rows``-row table (left by the
    last ``_measure``), unthrottled and at each of ``NICE_RATIOS``."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("DROP TABLE IF EXISTS bench_oltp")
        connection.execute(
            "CREATE TABLE bench_oltp (id int PRIMARY KEY, counter bigint, payload text)"
        )
        connection.execute(
            "INSERT INTO bench_oltp SELECT n, 0, md5(n::text) FROM generate_series(1, %s) AS n",
            (OLTP_ROWS,),
        )
        connection.execute("VACUUM ANALYZE bench_oltp")
    measured = []
    print(
        f"\nOLTP ({OLTP_THREADS} threads, point UPDATE + SELECT, {OLTP_THINK_SECONDS * 1000:g} ms"
        f" think) while {rows:,} rows are copied",
        flush=True,
    )
    header = f"{'backfill':>22} {'txn/s':>8} {'mean ms':>8} {'p95 ms':>7} {'slowdown':>9}"
    print(f"{header} {'copy r/s':>10}")
    for throttle in (None, *(({"nice_ratio": ratio}) for ratio in NICE_RATIOS)):
        before = _workload(url, _alone)
        copy_rate: list[float] = []

        def copy(
            recording: threading.Event,
            settings: dict[str, float] | None = throttle,
            out: list[float] = copy_rate,
        ) -> None:
            out.append(_copy_process(url, store_url, folder, settings, recording))

        during = _workload(url, copy)
        after = _workload(url, _alone)
        alone = (before["mean_ms"] + after["mean_ms"]) / 2
        result = {
            "throttle": throttle or "none",
            "alone_mean_ms": alone,
            "during": during,
            "slowdown": during["mean_ms"] / alone - 1,
            "copy_rows_per_second": copy_rate[0],
        }
        measured.append(result)
        label = "unthrottled" if throttle is None else f"nice_ratio {throttle['nice_ratio']:g}"
        print(
            f"{label:>22} {during['per_second']:>8,.0f} {during['mean_ms']:>8.2f} "
            f"{during['p95_ms']:>7.2f} {result['slowdown']:>9.1%} "
            f"{result['copy_rows_per_second']:>10,.0f}   (alone {alone:.2f} ms)",
            flush=True,
        )
    return measured


def _alone(recording: threading.Event) -> None:
    recording.set()
    time.sleep(OLTP_ALONE_SECONDS)


def _copy_process(
    url: str,
    store_url: str,
    folder: Path,
    throttle: dict[str, float] | None,
    recording: threading.Event,
) -> float:
    """A ``rheostat backfill run`` process copying ``bench_source`` from scratch; the OLTP
    latencies are recorded from its first committed batch to its end (not while the process
    starts). Returns the run's own rows/s."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("TRUNCATE bench_target")
        connection.execute(f"DROP TABLE IF EXISTS {CHECKPOINT_TABLE}")
    document = _job(url, f"oltp-{secrets.token_hex(3)}", fixed=False)
    if throttle is not None:
        document["throttle"] = throttle
    job = folder / "oltp-job.json"
    job.write_text(json.dumps(document), encoding="utf-8")
    rheostat = Path(sys.executable).with_name("rheostat")
    with subprocess.Popen(  # noqa: S603 - our own command
        [str(rheostat), "backfill", "run", str(job), "--json", "--database-url", store_url],
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        last: dict[str, Any] = {}
        for line in process.stdout:
            last = json.loads(line)
            recording.set()
    if process.returncode != 0 or last.get("event") != "result":
        raise SystemExit(f"the OLTP benchmark's backfill failed: {last}")
    return float(last["rows_per_second"])


def _workload(url: str, meanwhile: Callable[[threading.Event], None]) -> dict[str, float]:
    """Run the OLTP threads while ``meanwhile(recording)`` runs; the rate and latency of the
    transactions that ended while ``recording`` was set."""
    stop = threading.Event()
    recording = threading.Event()
    latencies: list[list[float]] = [[] for _ in range(OLTP_THREADS)]
    opened: list[float] = []

    def client(index: int) -> None:
        rng = random.Random(index)
        with psycopg.connect(url) as connection:
            while not stop.is_set():
                began = time.perf_counter()
                connection.execute(
                    "UPDATE bench_oltp SET counter = counter + 1 WHERE id = %s",
                    (rng.randint(1, OLTP_ROWS),),
                )
                connection.execute(
                    "SELECT payload FROM bench_oltp WHERE id = %s", (rng.randint(1, OLTP_ROWS),)
                ).fetchone()
                connection.commit()
                if recording.is_set():
                    if not opened:
                        opened.append(began)
                    latencies[index].append(time.perf_counter() - began)
                time.sleep(OLTP_THINK_SECONDS)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(OLTP_THREADS)]
    for thread in threads:
        thread.start()
    try:
        meanwhile(recording)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    seconds = time.perf_counter() - (opened[0] if opened else time.perf_counter())
    every = sorted(value for values in latencies for value in values) or [0.0]
    return {
        "transactions": len(every),
        "per_second": len(every) / seconds if seconds > 0 else 0.0,
        "mean_ms": 1000 * statistics.fmean(every),
        "p95_ms": 1000 * every[int(0.95 * (len(every) - 1))],
        "seconds": seconds,
    }


def _oltp_verdicts(measured: list[dict[str, Any]]) -> list[str]:
    throttled = [m for m in measured if m["throttle"] != "none"]
    if not throttled:
        return []
    best = min(throttled, key=lambda m: m["slowdown"])
    mark = "PASS" if best["slowdown"] < OLTP_SLOWDOWN_TARGET else "MISS"
    return [
        f"{mark} OLTP slowdown under 10% when throttled: {best['slowdown']:.1%} at "
        f"nice_ratio {best['throttle']['nice_ratio']:g} "
        f"(unthrottled {measured[0]['slowdown']:.1%})"
    ]


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
