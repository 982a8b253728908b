"""Flag-evaluation speed: rheostat against the fastest Python flag SDKs, side by side, one run.

Every engine gets the same four scenarios over the same 10,000 users, each built the SDK's own
way with a prebuilt context per user (see ``peers/``). For each engine and scenario the harness
first checks the split the engine serves (so no wrong configuration gets timed), then times
sweeps over all users timeit-style: repeats of ``loops`` sweeps each, with the garbage
collector off, engines interleaved repeat by repeat so a noisy neighbour hits them alike. It
reports the median ns per evaluation, rheostat's ratio to the fastest peer, and the floor: a
bare ``mmh3.hash(key) % 100 < 25`` loop.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import sys
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import mmh3

from flag_report import Row, Timing, describe_machine, print_machine, report
from peers.contract import Case, Engine, Unavailable, User, make_users

USERS = 10_000
SEED = 20_240_601
ADAPTERS = ("rheostat_engine", "flagd", "flagsmith", "growthbook", "unleash", "launchdarkly")
FLOOR_API = "mmh3.hash(key) % 100 < 25"
RESULTS = Path(__file__).parent / "results" / "latest.json"

# Expected share of users served the treatment (True, or "B" in S4), per case id.
EXPECTED_SHARE = {"S1": 1.0, "S2": 0.25, "S3": 0.10, "S4": 0.50, "S4/variant": 0.50}
TOLERANCE = 0.02  # 4.6 standard deviations of a 25% share over 10,000 users


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the tables, write ``results/latest.json``."""
    args = _parse(argv)
    machine = describe_machine()
    print_machine(machine)
    users = make_users(USERS, seed=SEED)
    built, unavailable = _build_all(args.only, users)
    floor = (_floor_case(users), Timing(api=FLOOR_API, ok=True))
    try:
        for engine, row in built:
            _verify(engine, row, users)
        _measure(built, floor, args)
    finally:
        for engine, _ in built:
            if engine.close is not None:
                engine.close()
    rows = [row for _, row in built] + unavailable
    settings = {
        "users": USERS,
        "seed": SEED,
        "repeats": args.repeats,
        "min_time_s": args.min_time,
        "unit": "median ns per evaluation",
    }
    results = report(machine, rows, floor[1], settings)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nresults written to {args.json}")
    return 0


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per case")
    parser.add_argument("--min-time", type=float, default=0.1, help="seconds per repeat, at least")
    parser.add_argument("--only", nargs="*", choices=ADAPTERS, help="run only these adapters")
    parser.add_argument("--json", type=Path, default=RESULTS, help="where to write the results")
    return parser.parse_args(argv)


# Building and checking --------------------------------------------------------------------------


Built = list[tuple[Engine, Row]]


def _build_all(only: Sequence[str] | None, users: list[User]) -> tuple[Built, list[Row]]:
    """Build every adapter's engines; an SDK that cannot run becomes a row saying why."""
    built: Built = []
    unavailable: list[Row] = []
    for adapter in only or ADAPTERS:
        for outcome in _build(adapter, users):
            if isinstance(outcome, Row):
                unavailable.append(outcome)
                print(f"  {outcome.name}: unavailable: {outcome.unavailable}")
                continue
            row = Row(
                name=outcome.name,
                package=outcome.package,
                mode=outcome.mode,
                version=_version(outcome.package),
                is_ours=outcome.is_ours,
            )
            built.append((outcome, row))
    return built, unavailable


def _build(adapter: str, users: list[User]) -> list[Engine | Row]:
    try:
        module = importlib.import_module(f"peers.{adapter}")
        return list(module.build(users))
    except (ImportError, Unavailable) as error:
        reason = f"{type(error).__name__}: {error}"
    except Exception as error:  # noqa: BLE001  # a peer that breaks is reported, not fatal
        reason = f"failed to build: {type(error).__name__}: {error}"
    return [Row(name=adapter, package="", version="", unavailable=reason)]


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "?"


def _verify(engine: Engine, row: Row, users: list[User]) -> None:
    """Run each case once over every user (the warm-up) and check the split it serves."""
    for case_id, case in engine.cases.items():
        timing = Timing(api=case.api)
        row.timings[case_id] = timing
        try:
            timing.share = case.sweep(case.contexts) / len(users)
            timing.ok, timing.check = _check(case_id, case, users, timing.share)
        except Exception as error:  # noqa: BLE001  # report the broken case, time the rest
            timing.check = f"raised {type(error).__name__}: {error}"
        if not timing.ok:
            print(f"  {engine.name} {case_id}: WRONG: {timing.check}")


def _check(case_id: str, case: Case, users: list[User], share: float) -> tuple[bool, str]:
    expected = EXPECTED_SHARE.get(case_id)
    if expected is None:
        return True, f"{share:.1%} served (not checked)"
    if case_id != "S3":
        ok = abs(share - expected) <= TOLERANCE
        return ok, f"{share:.1%} served, expected {expected:.0%}"
    targeted = [c for c, u in zip(case.contexts, users, strict=True) if u.targeted]
    others = [c for c, u in zip(case.contexts, users, strict=True) if not u.targeted]
    on_targeted = case.sweep(targeted) / len(targeted)
    on_others = case.sweep(others) / len(others)
    ok = on_targeted == 1.0 and abs(on_others - expected) <= TOLERANCE
    return ok, f"targeted {on_targeted:.0%} on (expected 100%), others {on_others:.1%} (10%)"


def _floor_case(users: list[User]) -> Case:
    keys = [u.key for u in users]
    hash_ = mmh3.hash

    def sweep(contexts: Sequence[Any]) -> int:
        served = 0
        for key in contexts:
            served += hash_(key) % 100 < 25
        return served

    return Case(contexts=keys, sweep=sweep, api=FLOOR_API)


# Timing -----------------------------------------------------------------------------------------


def _measure(built: Built, floor: tuple[Case, Timing], args: argparse.Namespace) -> None:
    """Time every checked case, in rounds of one repeat each, so drift hits all alike."""
    jobs = [floor] + [
        (engine.cases[case_id], timing)
        for engine, row in built
        for case_id, timing in row.timings.items()
        if timing.ok
    ]
    print(f"\ntiming {len(jobs)} cases: {args.repeats} repeats of >= {args.min_time} s each ...")
    min_ns = args.min_time * 1e9
    for case, timing in jobs:
        timing.loops = _calibrate(case, min_ns)
    for _ in range(args.repeats):
        for case, timing in jobs:
            timing.repeats_ns.append(
                _time(case, timing.loops) / (timing.loops * len(case.contexts))
            )


def _calibrate(case: Case, min_ns: float) -> int:
    """Sweeps per repeat so one repeat lasts at least ``min_ns`` (timeit's autorange)."""
    loops = 1
    while True:
        elapsed = _time(case, loops)
        if elapsed >= min_ns:
            return loops
        loops = max(loops + 1, int(loops * min_ns / max(elapsed, 1.0) * 1.1))


def _time(case: Case, loops: int) -> float:
    """Nanoseconds for ``loops`` sweeps, garbage collector off."""
    sweep, contexts = case.sweep, case.contexts
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter_ns()
        for _ in range(loops):
            sweep(contexts)
        return float(time.perf_counter_ns() - start)
    finally:
        gc.enable()


if __name__ == "__main__":
    sys.exit(main())
