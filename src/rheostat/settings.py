"""Settings read from the environment (``RHEOSTAT_*``); built by entry points, never at import."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_DATABASE_URL", "Settings"]

DEFAULT_DATABASE_URL = "sqlite:///./rheostat.db"


class Settings(BaseSettings):
    """Process settings.

    Attributes:
        database_url: SQLAlchemy URL (``RHEOSTAT_DATABASE_URL``). SQLite by default;
            ``postgresql://`` and ``postgres://`` are rewritten to ``postgresql+psycopg://``.
        max_body_bytes: the largest request body the API accepts (``RHEOSTAT_MAX_BODY_BYTES``);
            a larger one gets 413.
        stream_keepalive_s: seconds between keep-alive comments on an idle SSE stream
            (``RHEOSTAT_STREAM_KEEPALIVE_S``), under the idle timeout of proxies in between.
        stream_poll_s: how often a replica reads the revisions of the environments it streams
            (``RHEOSTAT_STREAM_POLL_S``), to catch writers it cannot hear (the CLI on SQLite).
        stream_max_s: how long one SSE connection lasts before the server ends it
            (``RHEOSTAT_STREAM_MAX_S``); clients resume from their revision elsewhere.
        deliver_webhooks: whether the API sends the webhook outbox in a background task after
            a change (``RHEOSTAT_DELIVER_WEBHOOKS``); the controller loop sends it in any case.
        checks_api_kinds: check kinds that a suite sent to ``POST /api/v1/checks/run`` may use
            beyond checks of rheostat's own database (``RHEOSTAT_CHECKS_API_KINDS``, comma
            separated, e.g. ``http,tcp,redis``). Empty by default: the API never runs a
            command, imports code or reaches another host unless the operator says so.
        checks_dir: where a release plan's ``check`` stage finds the suite files it names
            (``RHEOSTAT_CHECKS_DIR``; ``check: [backups]`` runs ``<checks_dir>/backups.yaml``).
        backfills_dir: where a release plan's ``backfill`` stage finds its job file
            (``RHEOSTAT_BACKFILLS_DIR``; ``backfill: {job: docs}`` runs
            ``<backfills_dir>/docs.yaml``).
        database_concurrency: how many API requests may hold a database transaction at once
            (``RHEOSTAT_DATABASE_CONCURRENCY``); the others wait on the event loop, holding
            neither a connection nor a worker thread. Keep it below the connection pool's size
            (15 by default) so that a request holding a connection never waits for a thread
            held by a request that waits for a connection.
        session_secret: the key that signs dashboard sessions (``RHEOSTAT_SESSION_SECRET``);
            give every replica the same one. Unset: a random key per process.
        prometheus_url: the Prometheus HTTP API that ``source: prometheus`` gates query
            (``RHEOSTAT_PROMETHEUS_URL``); unset, those gates answer ``error``.
    """

    model_config = SettingsConfigDict(env_prefix="RHEOSTAT_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    database_concurrency: int = Field(default=10, ge=1, le=10_000)
    stream_keepalive_s: float = Field(default=15.0, gt=0, le=3600)
    stream_poll_s: float = Field(default=1.0, gt=0, le=3600)
    stream_max_s: float = Field(default=900.0, gt=0, le=86_400)
    deliver_webhooks: bool = True
    checks_api_kinds: str = ""
    checks_dir: str = "checks"
    backfills_dir: str = "backfills"

    @property
    def allowed_check_kinds(self) -> frozenset[str]:
        """``checks_api_kinds`` as a set of kind names."""
        return frozenset(name.strip() for name in self.checks_api_kinds.split(",") if name.strip())

    prometheus_url: str | None = None
    session_secret: str | None = Field(default=None, repr=False)
