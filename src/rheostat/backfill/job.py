"""The backfill job document: read, validated whole, and fingerprinted.

```yaml
backfill: documents-to-search
source: {url: "${APP_DB}", table: documents, key: id}          # or query: "SELECT ..." + key
target: {url: "${APP_DB}", table: documents_search, key: id}
columns: {id: id, title: title, body_length: "length(body)"}   # target column: source expression
transform: mypackage.search:enrich                               # optional, per batch
batch: {size: 1000, target_seconds: 0.5}
throttle: {max_rows_per_second: 0, replication_lag_seconds: 10, probes: [...]}
parallel: {workers: 4}                                           # PostgreSQL; 1 on SQLite
```

Every problem is an ``InvalidDefinition`` naming the path of the wrong field
(``source.key[1]``, ``throttle.probes[0].sql``). ``${VAR}`` in a URL is read from the
environment mapping the caller passes (the edge passes ``os.environ``); the document keeps the
text as written, so a stored job never holds a password that came from the environment.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rheostat.errors import InvalidDefinition

__all__ = [
    "BackfillJob",
    "BatchSettings",
    "Endpoint",
    "Probe",
    "ThrottleSettings",
    "expand_url",
    "job_essence",
    "job_fingerprint",
    "job_from_dict",
    "job_from_text",
    "job_to_dict",
    "load_job",
]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,62}")
_QUALIFIED = re.compile(rf"{_IDENTIFIER.pattern}(?:\.{_IDENTIFIER.pattern})?")
_IMPORT_PATH = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_TOP_FIELDS = (
    "backfill",
    "source",
    "target",
    "columns",
    "transform",
    "batch",
    "throttle",
    "parallel",
)
_PROBE_KINDS = ("sql", "http", "callable")

MAX_WORKERS = 64
"""More parallel workers than this would only queue on the database's locks and cores."""
MAX_BATCH_SIZE = 1_000_000
"""More rows than this in one transaction is a typo (and a long lock)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoint:
    """One side of the copy.

    Attributes:
        url_template: the URL as written in the job (``${VAR}`` kept).
        url: the URL with the environment's values put in.
        table: the table (``schema.table`` allowed); ``None`` when ``query`` is given.
        query: a ``SELECT`` whose rows are the source (source side only).
        key: the key columns, in order (a composite key has several).
    """

    url_template: str
    url: str
    table: str | None
    query: str | None
    key: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchSettings:
    """Rows per batch to start with, and the time one batch should take (0 = fixed size)."""

    size: int = 1000
    target_seconds: float = 0.5
    min_size: int = 10
    max_size: int = 100_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Probe:
    """A load probe checked between batches: its reading above ``max`` pauses the copy.

    ``kind`` is ``sql`` (``target`` is a query returning one number, run on ``on``: source or
    target), ``http`` (``target`` is a URL; a status other than 2xx or a latency above
    ``max`` seconds pauses) or ``callable`` (``target`` is ``module:function`` returning a
    number).
    """

    kind: str
    target: str
    max: float
    on: str = "source"


@dataclass(frozen=True, slots=True, kw_only=True)
class ThrottleSettings:
    """Limits between batches: 0 means no limit."""

    max_rows_per_second: float = 0.0
    replication_lag_seconds: float = 0.0
    probes: tuple[Probe, ...] = ()
    pause_seconds: float = 1.0
    nice_ratio: float = 0.0
    """After each batch, rest this many times the batch's duration (gh-ost's ``nice-ratio``):
    0.5 leaves the database a third of the copy's time, 1 half."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BackfillJob:
    """A validated job document."""

    name: str
    source: Endpoint
    target: Endpoint
    columns: tuple[tuple[str, str], ...]
    transform: str | None = None
    batch: BatchSettings = field(default_factory=BatchSettings)
    throttle: ThrottleSettings = field(default_factory=ThrottleSettings)
    workers: int = 1
    """Parallel workers (``parallel.workers``), each claiming key ranges; 1 copies in order.
    Not part of the fingerprint: it may change between runs."""

    @property
    def target_columns(self) -> tuple[str, ...]:
        """The target's columns, in the document's order."""
        return tuple(column for column, _ in self.columns)

    @property
    def source_expressions(self) -> tuple[str, ...]:
        """The source expression of each target column, in the same order."""
        return tuple(expression for _, expression in self.columns)


def load_job(path: str | Path, environ: Mapping[str, str]) -> BackfillJob:
    """Read and validate a job file (YAML or JSON).

    Raises:
        InvalidDefinition: naming the file when it cannot be read or parsed, else the path of
            the first wrong field.
    """
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidDefinition(name, f"cannot read the job file: {error}") from error
    return job_from_text(text, environ, name_hint=name)


def job_from_text(
    text: str, environ: Mapping[str, str], *, name_hint: str = "<job>"
) -> BackfillJob:
    """Parse YAML (or JSON) text and validate it whole."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InvalidDefinition(name_hint, f"not valid YAML or JSON: {error}") from error
    return job_from_dict(document, environ)


def job_from_dict(document: Any, environ: Mapping[str, str]) -> BackfillJob:
    """Validate a parsed job document; raise ``InvalidDefinition`` naming the wrong path."""
    body = _mapping(document, "")
    _known(body, _TOP_FIELDS, "")
    name = _str(body.get("backfill"), "backfill")
    if not _NAME.fullmatch(name):
        raise InvalidDefinition("backfill", "a name of letters, digits, '_', '.', '-' (max 128)")
    source = _endpoint(body.get("source"), "source", environ, allow_query=True)
    target = _endpoint(body.get("target"), "target", environ, allow_query=False)
    columns = _columns(body.get("columns"), target.key, source.key)
    transform = body.get("transform")
    if transform is not None:
        transform = _str(transform, "transform")
        if not _IMPORT_PATH.fullmatch(transform):
            raise InvalidDefinition("transform", "an import path such as 'package.module:function'")
    return BackfillJob(
        name=name,
        source=source,
        target=target,
        columns=columns,
        transform=transform,
        batch=_batch(body.get("batch"), "batch"),
        throttle=_throttle(body.get("throttle"), "throttle"),
        workers=_parallel(body.get("parallel"), "parallel"),
    )


def job_to_dict(job: BackfillJob) -> dict[str, Any]:
    """The canonical document (URLs as written); ``job_from_dict`` reads it back."""

    def endpoint(side: Endpoint) -> dict[str, Any]:
        out: dict[str, Any] = {"url": side.url_template}
        if side.table is not None:
            out["table"] = side.table
        if side.query is not None:
            out["query"] = side.query
        out["key"] = side.key[0] if len(side.key) == 1 else list(side.key)
        return out

    document: dict[str, Any] = {
        "backfill": job.name,
        "source": endpoint(job.source),
        "target": endpoint(job.target),
        "columns": dict(job.columns),
    }
    if job.transform is not None:
        document["transform"] = job.transform
    document["batch"] = {
        "size": job.batch.size,
        "target_seconds": job.batch.target_seconds,
        "min_size": job.batch.min_size,
        "max_size": job.batch.max_size,
    }
    throttle = job.throttle
    document["throttle"] = {
        "max_rows_per_second": throttle.max_rows_per_second,
        "replication_lag_seconds": throttle.replication_lag_seconds,
        "pause_seconds": throttle.pause_seconds,
        **({"nice_ratio": throttle.nice_ratio} if throttle.nice_ratio else {}),
        "probes": [
            {probe.kind: probe.target, "max": probe.max, "on": probe.on}
            for probe in throttle.probes
        ],
    }
    if job.workers != 1:
        document["parallel"] = {"workers": job.workers}
    return document


def job_essence(job: BackfillJob) -> dict[str, Any]:
    """What decides which rows go where: source (table or query, key), target (table, key),
    columns and transform. URLs, batch and throttle settings may change between runs."""
    return {
        "source": [job.source.table, job.source.query, list(job.source.key)],
        "target": [job.target.table, list(job.target.key)],
        "columns": [list(pair) for pair in job.columns],
        "transform": job.transform,
    }


def job_fingerprint(job: BackfillJob) -> str:
    """A digest of ``job_essence``: a checkpoint made under another fingerprint is unusable."""
    canonical = json.dumps(job_essence(job), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def expand_url(template: str, environ: Mapping[str, str], path: str) -> str:
    """Put the environment's values in for ``${VAR}``; a variable not set is an error."""

    def value(match: re.Match[str]) -> str:
        variable = match.group(1)
        if variable not in environ:
            raise InvalidDefinition(path, f"environment variable {variable} is not set")
        return environ[variable]

    return _VARIABLE.sub(value, template)


def _endpoint(raw: Any, path: str, environ: Mapping[str, str], *, allow_query: bool) -> Endpoint:
    body = _mapping(raw, path)
    fields = ("url", "table", "query", "key") if allow_query else ("url", "table", "key")
    _known(body, fields, path)
    template = _str(body.get("url"), f"{path}.url")
    url = expand_url(template, environ, f"{path}.url")
    if "://" not in url:
        raise InvalidDefinition(f"{path}.url", "a database URL such as postgresql://host/db")
    table = body.get("table")
    query = body.get("query")
    if table is None and query is None:
        missing = "table or query" if allow_query else "table"
        raise InvalidDefinition(f"{path}.table", f"missing: give the {missing}")
    if table is not None and query is not None:
        raise InvalidDefinition(f"{path}.query", "give a table or a query, not both")
    if table is not None:
        table = _str(table, f"{path}.table")
        if not _QUALIFIED.fullmatch(table):
            raise InvalidDefinition(f"{path}.table", "a table name, or schema.table")
    if query is not None:
        query = _str(query, f"{path}.query").strip().rstrip(";")
        if not query.lower().startswith(("select", "with")):
            raise InvalidDefinition(f"{path}.query", "a SELECT (or WITH ... SELECT) query")
    return Endpoint(
        url_template=template, url=url, table=table, query=query, key=_key(body.get("key"), path)
    )


def _key(raw: Any, path: str) -> tuple[str, ...]:
    where = f"{path}.key"
    if raw is None:
        raise InvalidDefinition(where, "missing: the key column, or a list for a composite key")
    items = [raw] if isinstance(raw, str) else _list(raw, where)
    if not items:
        raise InvalidDefinition(where, "must name at least one column")
    columns: list[str] = []
    for index, item in enumerate(items):
        item_path = where if isinstance(raw, str) else f"{where}[{index}]"
        column = _identifier(item, item_path)
        if column in columns:
            raise InvalidDefinition(item_path, f"column {column!r} named twice")
        columns.append(column)
    return tuple(columns)


def _columns(
    raw: Any, target_key: tuple[str, ...], source_key: tuple[str, ...]
) -> tuple[tuple[str, str], ...]:
    body = _mapping(raw, "columns")
    if not body:
        raise InvalidDefinition("columns", "must map at least the key columns")
    pairs: list[tuple[str, str]] = []
    for column, expression in body.items():
        _identifier(column, "columns")
        pairs.append((column, _str(expression, f"columns.{column}").strip()))
    mapping = dict(pairs)
    if len(target_key) != len(source_key):
        raise InvalidDefinition(
            "target.key", f"has {len(target_key)} column(s), the source key {len(source_key)}"
        )
    for target_column, source_column in zip(target_key, source_key, strict=True):
        if target_column not in mapping:
            raise InvalidDefinition("columns", f"missing the target key column {target_column!r}")
        if mapping[target_column] != source_column:
            raise InvalidDefinition(
                f"columns.{target_column}",
                f"the target key column must copy the source key column {source_column!r}, "
                "so that batches and checksums compare the same key ranges on both sides",
            )
    return tuple(pairs)


def _batch(raw: Any, path: str) -> BatchSettings:
    if raw is None:
        return BatchSettings()
    body = _mapping(raw, path)
    _known(body, ("size", "target_seconds", "min_size", "max_size"), path)
    default = BatchSettings()
    size = _int(body.get("size", default.size), f"{path}.size", 1, MAX_BATCH_SIZE)
    target_seconds = _number(
        body.get("target_seconds", default.target_seconds), f"{path}.target_seconds", 0, 3600
    )
    min_size = _int(body.get("min_size", min(default.min_size, size)), f"{path}.min_size", 1, size)
    max_size = _int(
        body.get("max_size", max(default.max_size, size)), f"{path}.max_size", size, MAX_BATCH_SIZE
    )
    return BatchSettings(
        size=size, target_seconds=target_seconds, min_size=min_size, max_size=max_size
    )


def _parallel(raw: Any, path: str) -> int:
    if raw is None:
        return 1
    body = _mapping(raw, path)
    _known(body, ("workers",), path)
    return _int(body.get("workers", 1), f"{path}.workers", 1, MAX_WORKERS)


def _throttle(raw: Any, path: str) -> ThrottleSettings:
    if raw is None:
        return ThrottleSettings()
    body = _mapping(raw, path)
    _known(
        body,
        (
            "max_rows_per_second",
            "replication_lag_seconds",
            "probes",
            "pause_seconds",
            "nice_ratio",
        ),
        path,
    )
    probes_raw = body.get("probes") or []
    probes = tuple(
        _probe(item, f"{path}.probes[{index}]")
        for index, item in enumerate(_list(probes_raw, f"{path}.probes"))
    )
    return ThrottleSettings(
        max_rows_per_second=_number(
            body.get("max_rows_per_second", 0), f"{path}.max_rows_per_second", 0, 1e9
        ),
        replication_lag_seconds=_number(
            body.get("replication_lag_seconds", 0), f"{path}.replication_lag_seconds", 0, 86_400
        ),
        probes=probes,
        pause_seconds=_number(body.get("pause_seconds", 1.0), f"{path}.pause_seconds", 0.01, 3600),
        nice_ratio=_number(body.get("nice_ratio", 0), f"{path}.nice_ratio", 0, 100),
    )


def _probe(raw: Any, path: str) -> Probe:
    body = _mapping(raw, path)
    _known(body, (*_PROBE_KINDS, "max", "on"), path)
    kinds = [kind for kind in _PROBE_KINDS if kind in body]
    if len(kinds) != 1:
        raise InvalidDefinition(path, "give exactly one of sql, http, callable")
    kind = kinds[0]
    target = _str(body[kind], f"{path}.{kind}")
    if kind == "callable" and not _IMPORT_PATH.fullmatch(target):
        raise InvalidDefinition(f"{path}.callable", "an import path such as 'module:function'")
    if kind == "http" and not target.startswith(("http://", "https://")):
        raise InvalidDefinition(f"{path}.http", "an http:// or https:// URL")
    if "max" not in body:
        raise InvalidDefinition(f"{path}.max", "missing: the reading above which the copy waits")
    on = body.get("on", "source")
    if on not in ("source", "target"):
        raise InvalidDefinition(f"{path}.on", "source or target")
    return Probe(kind=kind, target=target, max=_number(body["max"], f"{path}.max", 0, 1e18), on=on)


def _mapping(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        got = "nothing" if value is None else type(value).__name__
        raise InvalidDefinition(path, f"must be a mapping, got {got}")
    for key in value:
        if not isinstance(key, str):
            raise InvalidDefinition(path, f"keys must be strings, got {key!r}")
    return value


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise InvalidDefinition(path, f"must be a list, got {type(value).__name__}")
    return list(value)


def _known(body: Mapping[str, Any], fields: tuple[str, ...], path: str) -> None:
    for key in body:
        if key not in fields:
            where = f"{path}.{key}" if path else key
            raise InvalidDefinition(where, f"unknown field; expected one of {', '.join(fields)}")


def _str(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        got = "nothing" if value is None else repr(value)
        raise InvalidDefinition(path, f"must be a non-empty string, got {got}")
    return value


def _identifier(value: Any, path: str) -> str:
    text = _str(value, path)
    if not _IDENTIFIER.fullmatch(text):
        raise InvalidDefinition(path, f"{text!r} is not a plain column name")
    return text


def _number(value: Any, path: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise InvalidDefinition(path, f"must be a number, got {value!r}")
    if not low <= value <= high:
        raise InvalidDefinition(path, f"must be between {low:g} and {high:g}, got {value!r}")
    return float(value)


def _int(value: Any, path: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidDefinition(path, f"must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise InvalidDefinition(path, f"must be between {low} and {high}, got {value}")
    return value
