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

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from rheostat.backfill.job import BackfillJob, BatchSettings, Endpoint, Probe, ThrottleSettings
from rheostat.errors import InvalidDefinition
from rheostat.inputs import (
    refuse_unknown_fields,
    require_database_url,
    require_identifier,
    require_list,
    require_mapping,
    require_number,
    require_string,
    require_table_name,
    require_whole_number,
)

__all__ = [
    "MAX_BATCH_SIZE",
    "MAX_WORKERS",
    "job_from_dict",
    "job_from_text",
    "job_to_dict",
    "load_job",
    "parse_document",
    "read_document",
]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
_IMPORT_PATH = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")
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


def load_job(path: str | Path, environ: Mapping[str, str]) -> BackfillJob:
    """Read and validate a job file (YAML or JSON).

    Raises:
        InvalidDefinition: naming the file when it cannot be read or parsed, else the path of
            the first wrong field.
    """
    return job_from_text(read_document(path, "job"), environ, name_hint=str(path))


def job_from_text(
    text: str, environ: Mapping[str, str], *, name_hint: str = "<job>"
) -> BackfillJob:
    """Parse YAML (or JSON) text and validate it whole."""
    return job_from_dict(parse_document(text, name_hint), environ)


def read_document(path: str | Path, kind: str) -> str:
    """The UTF-8 text of a ``kind`` file (job, migration); ``InvalidDefinition`` naming the
    file when it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidDefinition(str(path), f"cannot read the {kind} file: {error}") from error


def parse_document(text: str, name_hint: str) -> Any:
    """YAML (or JSON, a subset) text parsed; ``InvalidDefinition`` naming ``name_hint``."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InvalidDefinition(name_hint, f"not valid YAML or JSON: {error}") from error


def job_from_dict(document: Any, environ: Mapping[str, str]) -> BackfillJob:
    """Validate a parsed job document; raise ``InvalidDefinition`` naming the wrong path."""
    body = require_mapping(document, "")
    refuse_unknown_fields(body, _TOP_FIELDS, "")
    name = require_string(body.get("backfill"), "backfill")
    if not _NAME.fullmatch(name):
        raise InvalidDefinition("backfill", "a name of letters, digits, '_', '.', '-' (max 128)")
    source = _endpoint(body.get("source"), "source", environ, allow_query=True)
    target = _endpoint(body.get("target"), "target", environ, allow_query=False)
    columns = _columns(body.get("columns"), target.key, source.key)
    transform = body.get("transform")
    if transform is not None:
        transform = require_string(transform, "transform")
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


def _endpoint(raw: Any, path: str, environ: Mapping[str, str], *, allow_query: bool) -> Endpoint:
    body = require_mapping(raw, path)
    fields = ("url", "table", "query", "key") if allow_query else ("url", "table", "key")
    refuse_unknown_fields(body, fields, path)
    template, url = require_database_url(body.get("url"), f"{path}.url", environ=environ)
    table = body.get("table")
    query = body.get("query")
    if table is None and query is None:
        missing = "table or query" if allow_query else "table"
        raise InvalidDefinition(f"{path}.table", f"missing: give the {missing}")
    if table is not None and query is not None:
        raise InvalidDefinition(f"{path}.query", "give a table or a query, not both")
    if table is not None:
        table = require_table_name(table, f"{path}.table")
    if query is not None:
        query = require_string(query, f"{path}.query").strip().rstrip(";")
        if not query.lower().startswith(("select", "with")):
            raise InvalidDefinition(f"{path}.query", "a SELECT (or WITH ... SELECT) query")
    return Endpoint(
        url_template=template, url=url, table=table, query=query, key=_key(body.get("key"), path)
    )


def _key(raw: Any, path: str) -> tuple[str, ...]:
    where = f"{path}.key"
    if raw is None:
        raise InvalidDefinition(where, "missing: the key column, or a list for a composite key")
    items = [raw] if isinstance(raw, str) else require_list(raw, where)
    if not items:
        raise InvalidDefinition(where, "must name at least one column")
    columns: list[str] = []
    for index, item in enumerate(items):
        item_path = where if isinstance(raw, str) else f"{where}[{index}]"
        column = require_identifier(item, item_path)
        if column in columns:
            raise InvalidDefinition(item_path, f"column {column!r} named twice")
        columns.append(column)
    return tuple(columns)


def _columns(
    raw: Any, target_key: tuple[str, ...], source_key: tuple[str, ...]
) -> tuple[tuple[str, str], ...]:
    body = require_mapping(raw, "columns")
    if not body:
        raise InvalidDefinition("columns", "must map at least the key columns")
    pairs: list[tuple[str, str]] = []
    for column, expression in body.items():
        require_identifier(column, "columns")
        pairs.append((column, require_string(expression, f"columns.{column}").strip()))
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
    body = require_mapping(raw, path)
    refuse_unknown_fields(body, ("size", "target_seconds", "min_size", "max_size"), path)
    default = BatchSettings()
    size = require_whole_number(
        body.get("size", default.size), f"{path}.size", minimum=1, maximum=MAX_BATCH_SIZE
    )
    target_seconds = require_number(
        body.get("target_seconds", default.target_seconds),
        f"{path}.target_seconds",
        minimum=0,
        maximum=3600,
    )
    min_size = require_whole_number(
        body.get("min_size", min(default.min_size, size)),
        f"{path}.min_size",
        minimum=1,
        maximum=size,
    )
    max_size = require_whole_number(
        body.get("max_size", max(default.max_size, size)),
        f"{path}.max_size",
        minimum=size,
        maximum=MAX_BATCH_SIZE,
    )
    return BatchSettings(
        size=size, target_seconds=target_seconds, min_size=min_size, max_size=max_size
    )


def _parallel(raw: Any, path: str) -> int:
    if raw is None:
        return 1
    body = require_mapping(raw, path)
    refuse_unknown_fields(body, ("workers",), path)
    return require_whole_number(
        body.get("workers", 1), f"{path}.workers", minimum=1, maximum=MAX_WORKERS
    )


def _throttle(raw: Any, path: str) -> ThrottleSettings:
    if raw is None:
        return ThrottleSettings()
    body = require_mapping(raw, path)
    refuse_unknown_fields(
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
        for index, item in enumerate(require_list(probes_raw, f"{path}.probes"))
    )
    return ThrottleSettings(
        max_rows_per_second=_limit(body, "max_rows_per_second", path, default=0, maximum=1e9),
        replication_lag_seconds=_limit(
            body, "replication_lag_seconds", path, default=0, maximum=86_400
        ),
        probes=probes,
        pause_seconds=require_number(
            body.get("pause_seconds", 1.0), f"{path}.pause_seconds", minimum=0.01, maximum=3600
        ),
        nice_ratio=_limit(body, "nice_ratio", path, default=0, maximum=100),
    )


def _limit(
    body: Mapping[str, Any], field: str, path: str, *, default: float, maximum: float
) -> float:
    """A throttle limit from 0 (no limit) to ``maximum``."""
    return require_number(body.get(field, default), f"{path}.{field}", minimum=0, maximum=maximum)


def _probe(raw: Any, path: str) -> Probe:
    body = require_mapping(raw, path)
    refuse_unknown_fields(body, (*_PROBE_KINDS, "max", "on"), path)
    kinds = [kind for kind in _PROBE_KINDS if kind in body]
    if len(kinds) != 1:
        raise InvalidDefinition(path, "give exactly one of sql, http, callable")
    kind = kinds[0]
    target = require_string(body[kind], f"{path}.{kind}")
    if kind == "callable" and not _IMPORT_PATH.fullmatch(target):
        raise InvalidDefinition(f"{path}.callable", "an import path such as 'module:function'")
    if kind == "http" and not target.startswith(("http://", "https://")):
        raise InvalidDefinition(f"{path}.http", "an http:// or https:// URL")
    if "max" not in body:
        raise InvalidDefinition(f"{path}.max", "missing: the reading above which the copy waits")
    on = body.get("on", "source")
    if on not in ("source", "target"):
        raise InvalidDefinition(f"{path}.on", "source or target")
    reading = require_number(body["max"], f"{path}.max", minimum=0, maximum=1e18)
    return Probe(kind=kind, target=target, max=reading, on=on)
