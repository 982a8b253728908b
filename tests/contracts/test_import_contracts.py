"""The import contracts in pyproject.toml catch the mistakes they exist for.

Each case copies ``src/rheostat``, ``tools`` and ``pyproject.toml`` into a temporary directory,
adds one import to one module of the copy, runs ``lint-imports`` on the copy and checks exactly
which contracts break. A contract that no mistake can break proves nothing, so every contract in
pyproject.toml must be broken by at least one case here.

``lint-imports`` finds the package to analyse with ``importlib.util.find_spec("rheostat")``; the
installed ``rheostat`` is an editable install of the real tree, so each run puts the copy's
``src`` first on ``PYTHONPATH``, and the tests check that ``rheostat`` resolves to the copy and
that the report quotes the injected line.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

LAYERS = "Entry points, services, store"
STORE = "Only rheostat.service imports rheostat.store"
DATABASE = "Only the store imports database libraries"
FLAGS = "rheostat.flags is pure: stdlib, mmh3, PyYAML, errors, inputs"
STATS = "rheostat.stats is pure: stdlib, numpy, scipy, errors"
EXPERIMENTS = "rheostat.experiments is pure: stdlib, flags, stats, errors, inputs"
ROLLOUT = "rheostat.rollout is pure: stdlib, PyYAML, flags, stats, metrics, errors, inputs"
SIMULATE = "rheostat.simulate is pure: stdlib, numpy, rollout, metrics, stats, errors"
BACKFILL = "rheostat.backfill (planner) is pure: stdlib, PyYAML, errors, inputs"
MIGRATE = "rheostat.migrate (stages, parity) is pure: stdlib, PyYAML, backfill, errors, inputs"
RUNNER = (
    "rheostat.runner (backfill I/O): stdlib, SQLAlchemy, httpx, backfill, service, clock, errors"
)
METRICS = "rheostat.metrics (values) is pure: stdlib, errors, inputs"
CHECKS = "rheostat.checks (the checks' core) opens no socket, file or process"
PROBES = "rheostat.probes (network, files, processes) stay off the database"
INPUTS = "rheostat.inputs (rules for text that comes in) is pure: stdlib, errors"
LEAVES = "rheostat.errors and rheostat.clock are leaves: stdlib only"
TIME = "Only rheostat.clock reads the time"
SDK = "The SDK stays light: stdlib, httpx, flags, errors, clock, metric values"
ROOT = "import rheostat stays light: the root module imports errors, flags, sdk"
CYCLES = "No import cycles"
SIGNATURES = "rheostat.webhook_signatures (for receivers) is a leaf: stdlib only"
OPENFEATURE = "The OpenFeature provider stays light: stdlib, openfeature, sdk, flags"
INTEGRATIONS = "The framework integrations stay light: stdlib, web frameworks, flags"


@dataclass(frozen=True, kw_only=True)
class Injection:
    """One import added at the end of one module of the copy, and what it must break."""

    module: str
    statement: str
    broken: frozenset[str]
    # The importer -> imported link the report must quote (cycles are reported without one).
    link: str | None

    @property
    def path(self) -> Path:
        parts = self.module.split(".")
        package_init = Path("src", *parts, "__init__.py")
        return (
            package_init
            if (REPOSITORY / package_init).exists()
            else Path("src", *parts[:-1], f"{parts[-1]}.py")
        )


INJECTIONS = {
    "api imports rheostat.store.tables": Injection(
        module="rheostat.api.app",
        statement="import rheostat.store.tables",
        broken=frozenset({STORE}),
        link="rheostat.api.app -> rheostat.store.tables",
    ),
    "flags imports rheostat.experiments": Injection(
        module="rheostat.flags.engine",
        statement="import rheostat.experiments",
        # experiments imports flags, so this is also a cycle between core packages.
        broken=frozenset({FLAGS, CYCLES}),
        link="rheostat.flags.engine -> rheostat.experiments",
    ),
    "flags imports pydantic_settings": Injection(
        module="rheostat.flags.model",
        statement="import pydantic_settings",
        broken=frozenset({FLAGS}),
        link="rheostat.flags.model -> pydantic_settings",
    ),
    "sdk imports rheostat.stats": Injection(
        module="rheostat.sdk.client",
        statement="import rheostat.stats",
        broken=frozenset({SDK}),
        link="rheostat.sdk.client -> rheostat.stats",
    ),
    "stats imports rich": Injection(
        module="rheostat.stats.frequentist",
        statement="import rich",
        broken=frozenset({STATS}),
        link="rheostat.stats.frequentist -> rich",
    ),
    "experiments imports psycopg": Injection(
        module="rheostat.experiments.analysis",
        statement="import psycopg",
        broken=frozenset({EXPERIMENTS, DATABASE}),
        link="rheostat.experiments.analysis -> psycopg",
    ),
    "flags imports rheostat.store": Injection(
        module="rheostat.flags.rules",
        statement="import rheostat.store",
        # The store imports experiments, which imports flags: a cycle as well.
        broken=frozenset({FLAGS, STORE, CYCLES}),
        link="rheostat.flags.rules -> rheostat.store",
    ),
    "cli imports sqlalchemy": Injection(
        module="rheostat.cli.flags",
        statement="import sqlalchemy",
        broken=frozenset({DATABASE}),
        link="rheostat.cli.flags -> sqlalchemy",
    ),
    "rollout imports httpx": Injection(
        module="rheostat.rollout.model",
        statement="import httpx",
        broken=frozenset({ROLLOUT}),
        link="rheostat.rollout.model -> httpx",
    ),
    "simulate reads the wall clock": Injection(
        module="rheostat.simulate.runs",
        statement="import time",
        broken=frozenset({SIMULATE, TIME}),
        link="rheostat.simulate.runs -> time",
    ),
    "metrics imports sqlalchemy": Injection(
        module="rheostat.metrics.windows",
        statement="import sqlalchemy",
        broken=frozenset({METRICS, DATABASE}),
        link="rheostat.metrics.windows -> sqlalchemy",
    ),
    "inputs imports rheostat.flags": Injection(
        module="rheostat.inputs",
        statement="import rheostat.flags",
        # flags imports inputs (definitions refuse lone surrogates), so a cycle as well.
        broken=frozenset({INPUTS, CYCLES}),
        link="rheostat.inputs -> rheostat.flags",
    ),
    "cycle between two stats modules": Injection(
        module="rheostat.stats.sufficient",
        statement="import rheostat.stats.frequentist",
        broken=frozenset({CYCLES}),
        link=None,
    ),
    "experiments imports rheostat.clock": Injection(
        module="rheostat.experiments.model",
        statement="import rheostat.clock",
        broken=frozenset({EXPERIMENTS}),
        link="rheostat.experiments.model -> rheostat.clock",
    ),
    "stats imports random": Injection(
        module="rheostat.stats.power",
        statement="import random",
        broken=frozenset({STATS}),
        link="rheostat.stats.power -> random",
    ),
    "errors imports rheostat.flags": Injection(
        module="rheostat.errors",
        statement="import rheostat.flags",
        # flags imports errors, so this is a cycle as well.
        broken=frozenset({LEAVES, CYCLES}),
        link="rheostat.errors -> rheostat.flags",
    ),
    "service imports time": Injection(
        module="rheostat.service.flags",
        statement="import time",
        broken=frozenset({TIME}),
        link="rheostat.service.flags -> time",
    ),
    "store imports rheostat.service": Injection(
        module="rheostat.store.mappers",
        statement="import rheostat.service",
        # service imports store, so the two top-level packages now form a cycle too.
        broken=frozenset({LAYERS, CYCLES}),
        link="rheostat.store.mappers -> rheostat.service",
    ),
    "backfill planner imports sqlalchemy": Injection(
        module="rheostat.backfill.planning",
        statement="import sqlalchemy",
        broken=frozenset({BACKFILL, DATABASE}),
        link="rheostat.backfill.planning -> sqlalchemy",
    ),
    "migrate stages import random": Injection(
        module="rheostat.migrate.stages",
        statement="import random",
        broken=frozenset({MIGRATE}),
        link="rheostat.migrate.stages -> random",
    ),
    "runner imports rich": Injection(
        module="rheostat.runner.probes",
        statement="import rich",
        broken=frozenset({RUNNER}),
        link="rheostat.runner.probes -> rich",
    ),
    "webhook signatures import httpx": Injection(
        module="rheostat.webhook_signatures",
        statement="import httpx",
        broken=frozenset({SIGNATURES}),
        link="rheostat.webhook_signatures -> httpx",
    ),
    "the checks' core opens a socket": Injection(
        module="rheostat.checks.runner",
        statement="import socket",
        broken=frozenset({CHECKS}),
        link="rheostat.checks.runner -> socket",
    ),
    "the checks' core imports its probes": Injection(
        module="rheostat.checks.model",
        statement="import rheostat.probes",
        # the probes import the core, so a cycle as well
        broken=frozenset({CHECKS, CYCLES}),
        link="rheostat.checks.model -> rheostat.probes",
    ),
    "probes import sqlalchemy": Injection(
        module="rheostat.probes.web",
        statement="import sqlalchemy",
        broken=frozenset({PROBES, DATABASE}),
        link="rheostat.probes.web -> sqlalchemy",
    ),
    "the OpenFeature provider imports rheostat.service": Injection(
        module="rheostat.openfeature.provider",
        statement="import rheostat.service",
        broken=frozenset({OPENFEATURE}),
        link="rheostat.openfeature.provider -> rheostat.service",
    ),
    "a framework integration imports pydantic": Injection(
        module="rheostat.integrations.gate",
        statement="import pydantic",
        broken=frozenset({INTEGRATIONS}),
        link="rheostat.integrations.gate -> pydantic",
    ),
    "the root package imports rheostat.service": Injection(
        module="rheostat",
        statement="import rheostat.service",
        broken=frozenset({ROOT}),
        link="rheostat -> rheostat.service",
    ),
}


def test_every_contract_is_broken_by_some_injection() -> None:
    # Given the contracts in pyproject.toml
    config = tomllib.loads((REPOSITORY / "pyproject.toml").read_text(encoding="utf-8"))
    names = {contract["name"] for contract in config["tool"]["importlinter"]["contracts"]}

    # When we collect what the injections break
    exercised = set().union(*(injection.broken for injection in INJECTIONS.values()))

    # Then each contract has a mistake that proves it works
    assert exercised == names


def test_the_unmodified_copy_keeps_every_contract(tmp_path: Path) -> None:
    # Given an untouched copy of the package and its contracts
    copy = _copy_project(tmp_path)

    # When lint-imports checks the copy
    result = _lint_imports(copy)

    # Then every contract is kept
    assert result.returncode == 0, result.stdout + result.stderr
    kept, broken = _contract_results(result.stdout)
    assert broken == set()
    assert kept == set(_contract_names(copy))


@pytest.mark.parametrize("injection", INJECTIONS.values(), ids=INJECTIONS.keys())
def test_an_injected_import_breaks_exactly_its_contracts(
    tmp_path: Path, injection: Injection
) -> None:
    # Given a copy with one forbidden import added at the end of one module
    copy = _copy_project(tmp_path)
    line_number = _append_line(copy / injection.path, injection.statement)

    # When lint-imports checks the copy
    result = _lint_imports(copy)

    # Then it fails, naming exactly the contracts the mistake breaks
    assert result.returncode == 1, result.stdout + result.stderr
    _, broken = _contract_results(result.stdout)
    assert broken == injection.broken, result.stdout
    # and it read the copy: the report quotes the injected line, which only the copy has
    if injection.link is not None:
        assert f"{injection.link} (l.{line_number})" in result.stdout, result.stdout


def test_an_exception_listed_in_ignore_imports_keeps_the_contract(tmp_path: Path) -> None:
    # Given a copy where stats imports rich, and the stats contract ignores exactly that import
    copy = _copy_project(tmp_path)
    injection = INJECTIONS["stats imports rich"]
    _append_line(copy / injection.path, injection.statement)
    _add_to_contract(
        copy, STATS, 'ignore_imports = ["rheostat.stats.frequentist -> rich"]  # TODO(issue 9)'
    )

    # When lint-imports checks the copy
    result = _lint_imports(copy)

    # Then every contract is kept, and the report counts the exception
    assert result.returncode == 0, result.stdout + result.stderr
    assert _contract_results(result.stdout) == (set(_contract_names(copy)), set())
    assert f"{STATS} KEPT (1 ignored import)" in result.stdout.splitlines()


def _add_to_contract(copy: Path, name: str, option: str) -> None:
    config = copy / "pyproject.toml"
    text = config.read_text(encoding="utf-8")
    header = f'name = "{name}"\n'
    assert text.count(header) == 1
    config.write_text(text.replace(header, header + option + "\n"), encoding="utf-8")


def _copy_project(tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(REPOSITORY / "src" / "rheostat", copy / "src" / "rheostat", ignore=ignore)
    shutil.copytree(REPOSITORY / "tools", copy / "tools", ignore=ignore)
    shutil.copy2(REPOSITORY / "pyproject.toml", copy / "pyproject.toml")
    _assert_rheostat_resolves_to(copy)
    return copy


def _environment(copy: Path) -> dict[str, str]:
    # The copy's src comes before the editable install's path entry of the real tree;
    # a wide, plain console keeps each contract's status on one line.
    return {**os.environ, "PYTHONPATH": str(copy / "src"), "COLUMNS": "250", "NO_COLOR": "1"}


def _assert_rheostat_resolves_to(copy: Path) -> None:
    # lint-imports (grimp) locates the package with find_spec, from the same cwd and path.
    probe = "import importlib.util; print(importlib.util.find_spec('rheostat').origin)"
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-c", probe],
        cwd=copy,
        env=_environment(copy),
        capture_output=True,
        text=True,
        check=True,
    )
    origin = Path(result.stdout.strip())
    expected = copy / "src" / "rheostat" / "__init__.py"
    assert origin == expected, f"rheostat resolves to {origin}, not to the copy"


def _lint_imports(copy: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed arguments
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", "pyproject.toml"],
        cwd=copy,
        env=_environment(copy),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _append_line(path: Path, statement: str) -> int:
    text = path.read_text(encoding="utf-8")
    lines = [*text.splitlines(), statement]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


def _contract_names(copy: Path) -> list[str]:
    config = tomllib.loads((copy / "pyproject.toml").read_text(encoding="utf-8"))
    return [contract["name"] for contract in config["tool"]["importlinter"]["contracts"]]


# "<name> KEPT", "<name> BROKEN", maybe followed by "(1 ignored import)" and "[0.001s]"
STATUS_LINE = re.compile(
    r"^(?P<name>.+) (?P<status>KEPT|BROKEN)( \(\d+ ignored imports?\))?( \[.*\])?$"
)


def _contract_results(report: str) -> tuple[set[str], set[str]]:
    results: dict[str, set[str]] = {"KEPT": set(), "BROKEN": set()}
    for line in report.splitlines():
        if match := STATUS_LINE.match(line.rstrip()):
            results[match["status"]].add(match["name"])
    return results["KEPT"], results["BROKEN"]
