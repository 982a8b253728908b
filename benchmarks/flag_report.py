"""What a flag-benchmark run found, and how it is shown: the tables, the targets, the JSON."""

from __future__ import annotations

import os
import platform
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCENARIOS = {
    "S1": "boolean, on for everyone",
    "S2": "25% rollout by key",
    "S3": "country in {US,CA,GB} and plan == enterprise -> on, else 10% rollout",
    "S4": "50/50 string A/B",
}
TARGET_RATIO = 0.5
TARGET_S1_NS = 300.0
# The figures for the fastest peer per scenario, on a 2-core machine.
REFERENCE = {
    "S1": (1330, "flagd"),
    "S2": (4700, "flagsmith"),
    "S3": (6460, "growthbook"),
    "S4": (3390, "flagsmith"),
}


@dataclass(kw_only=True, slots=True)
class Timing:
    """One case's check and measurements."""

    api: str
    share: float | None = None
    check: str = ""
    ok: bool = False
    loops: int = 0
    repeats_ns: list[float] = field(default_factory=list)

    @property
    def median_ns(self) -> float | None:
        """The median of the repeats, in ns per evaluation; None before timing."""
        return statistics.median(self.repeats_ns) if self.repeats_ns else None


@dataclass(kw_only=True, slots=True)
class Row:
    """One engine in the report: what it is, or why it could not run."""

    name: str
    package: str
    version: str
    mode: str = ""
    is_ours: bool = False
    unavailable: str | None = None
    timings: dict[str, Timing] = field(default_factory=dict)


# Machine ----------------------------------------------------------------------------------------


def describe_machine() -> dict[str, Any]:
    """Python, CPU and date: what a reader needs to compare runs."""
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "cpu": _cpu_model(),
        "cores": _cores(),
        "platform": platform.platform(),
        "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


def print_machine(machine: dict[str, Any]) -> None:
    """Print the header every run starts with."""
    print("rheostat flag-evaluation benchmark")
    print(f"  date    {machine['date']}")
    print(f"  python  {machine['python']}")
    print(f"  cpu     {machine['cpu']} ({machine['cores']} usable cores)")
    print(f"  os      {machine['platform']}")
    load = machine["load_average_1min"]
    if load is not None:
        print(f"  load    {load:.2f} (1-min average at start; other work skews absolute figures)")


# Reporting --------------------------------------------------------------------------------------


def report(
    machine: dict[str, Any], rows: list[Row], floor: Timing, settings: dict[str, Any]
) -> dict[str, Any]:
    """Print the tables and verdicts; return everything as a JSON-ready dict."""
    ours = next((r for r in rows if r.is_ours and r.unavailable is None), None)
    peers = [r for r in rows if not r.is_ours and r.unavailable is None]
    floor_ns = floor.median_ns
    _print_table(rows, floor_ns)
    _print_checks(rows)
    verdicts = _print_targets(ours, peers)
    _print_extras(ours)
    return {
        "machine": machine,
        "settings": settings,
        "scenarios": SCENARIOS,
        "floor": {"api": floor.api, "median_ns": floor_ns, "repeats_ns": floor.repeats_ns},
        "engines": [_row_json(r) for r in rows],
        "targets": verdicts,
        "reference": {s: {"ns": ns, "peer": p} for s, (ns, p) in REFERENCE.items()},
    }


def _row_json(row: Row) -> dict[str, Any]:
    cases = {
        case_id: {
            "api": t.api,
            "median_ns": t.median_ns,
            "repeats_ns": t.repeats_ns,
            "loops": t.loops,
            "share": t.share,
            "ok": t.ok,
            "check": t.check,
        }
        for case_id, t in row.timings.items()
    }
    return {
        "name": row.name,
        "package": row.package,
        "version": row.version,
        "mode": row.mode,
        "unavailable": row.unavailable,
        "cases": cases,
    }


def _ns(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _print_table(rows: list[Row], floor_ns: float | None) -> None:
    print("\nmedian ns per evaluation (lower is better)")
    print(f"  {'engine':<16}{'version':<10}" + "".join(f"{s:>10}" for s in SCENARIOS) + "  mode")
    for row in rows:
        if row.unavailable is not None:
            print(f"  {row.name:<16}{'':<10}unavailable: {row.unavailable}")
            continue
        cells = "".join(f"{_cell(row.timings.get(s)):>10}" for s in SCENARIOS)
        print(f"  {row.name:<16}{row.version:<10}{cells}  {row.mode}")
    print(f"  floor: bare `mmh3.hash(key) % 100 < 25` loop: {_ns(floor_ns)} ns")


def _cell(timing: Timing | None) -> str:
    if timing is None:
        return "-"
    return _ns(timing.median_ns) if timing.ok else "WRONG"


def _print_checks(rows: list[Row]) -> None:
    print("\nsplit checks (share served the treatment: True, or 'B' in S4)")
    for row in rows:
        for case_id, timing in row.timings.items():
            if case_id in SCENARIOS:
                verdict = "ok   " if timing.ok else "WRONG"
                print(f"  {verdict} {row.name:<16}{case_id}  {timing.check}")


def _fastest(peers: list[Row], scenario: str) -> tuple[float, str] | None:
    timed = [
        (t.median_ns, r.name)
        for r in peers
        if (t := r.timings.get(scenario)) is not None and t.ok and t.median_ns is not None
    ]
    return min(timed) if timed else None


def _print_targets(ours: Row | None, peers: list[Row]) -> dict[str, Any]:
    print(f"\nrheostat / fastest peer (target: at most {TARGET_RATIO} in every scenario)")
    print(
        f"  {'':<4}{'rheostat':>10}{'fastest peer here':>26}{'ratio':>7}  result"
        f"  {'issue ref (2-core)':>26}{'rheostat/ref':>14}"
    )
    verdicts = {s: _verdict(s, ours, peers) for s in SCENARIOS}
    for scenario, v in verdicts.items():
        ref_ns, ref_peer = REFERENCE[scenario]
        peer = f"{_ns(v['fastest_peer_ns'])} {v['fastest_peer'] or 'none'}"
        ref_ratio = "-" if v["rheostat_ns"] is None else f"{v['rheostat_ns'] / ref_ns:.2f}"
        print(
            f"  {scenario:<4}{_ns(v['rheostat_ns']):>10}{peer:>26}{_ratio(v['ratio']):>7}"
            f"  {v['result']:<6}{f'{ref_ns:,} {ref_peer}':>26}{ref_ratio:>14}"
        )
    s1 = verdicts["S1"]["rheostat_ns"]
    s1_result = "n/a" if s1 is None else ("PASS" if s1 < TARGET_S1_NS else "MISS")
    print(f"  S1 absolute: {_ns(s1)} ns, target under {TARGET_S1_NS:.0f} ns: {s1_result}")
    verdicts["S1_absolute"] = {"rheostat_ns": s1, "target_ns": TARGET_S1_NS, "result": s1_result}
    if ours is None:
        print("  rheostat could not run: see its row above")
    return verdicts


def _verdict(scenario: str, ours: Row | None, peers: list[Row]) -> dict[str, Any]:
    """rheostat's median against the fastest peer whose split checked out, for one scenario."""
    fastest_ns, fastest = _fastest(peers, scenario) or (None, None)
    mine = ours.timings.get(scenario) if ours else None
    mine_ns = mine.median_ns if mine is not None and mine.ok else None
    ratio = mine_ns / fastest_ns if mine_ns is not None and fastest_ns else None
    result = "n/a" if ratio is None else ("PASS" if ratio <= TARGET_RATIO else "MISS")
    return {
        "rheostat_ns": mine_ns,
        "fastest_peer": fastest,
        "fastest_peer_ns": fastest_ns,
        "ratio": ratio,
        "result": result,
    }


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _print_extras(ours: Row | None) -> None:
    if ours is None:
        return
    print("\nrheostat, every timed call")
    for case_id, timing in ours.timings.items():
        print(f"  {case_id:<14}{_cell(timing):>8} ns  {timing.api}   [{timing.check}]")
