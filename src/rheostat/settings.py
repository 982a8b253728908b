"""Settings read from the environment (``RHEOSTAT_*``); built by entry points, never at import."""

from __future__ import annotations

from pydantic import Field, SecretStr
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
        webhook_allow_private: whether webhooks may go to loopback and private addresses
            (``RHEOSTAT_WEBHOOK_ALLOW_PRIVATE``; true by default: receivers are often internal
            services). Link-local and cloud metadata addresses (169.254.169.254) are refused
            whatever it says, when a webhook is registered and at each delivery.
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
        metrics_token: when set, ``GET /metrics`` wants ``Authorization: Bearer <token>``
            (``RHEOSTAT_METRICS_TOKEN``); unset, it is open, as Prometheus scrapers expect on
            an internal port.
        rate_limit_per_second: requests per second each API key may make on average
            (``RHEOSTAT_RATE_LIMIT_PER_SECOND``); 0, the default, turns the limit off (an sdk
            key is shared by a whole fleet of processes: size the limit for that).
        rate_limit_burst: how many requests a key may make at once before the average counts
            (``RHEOSTAT_RATE_LIMIT_BURST``); 0 means twice the per-second rate.
        cors_origins: browser origins allowed to call the API cross-origin
            (``RHEOSTAT_CORS_ORIGINS``, comma separated, e.g. ``https://ops.example.com``).
            Empty by default: browsers refuse every cross-origin call.
        html_csp: the ``Content-Security-Policy`` of HTML pages that set none themselves
            (``RHEOSTAT_HTML_CSP``); every other response gets ``default-src 'none'``.
    """

    model_config = SettingsConfigDict(env_prefix="RHEOSTAT_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    database_concurrency: int = Field(default=10, ge=1, le=10_000)
    stream_keepalive_s: float = Field(default=15.0, gt=0, le=3600)
    stream_poll_s: float = Field(default=1.0, gt=0, le=3600)
    stream_max_s: float = Field(default=900.0, gt=0, le=86_400)
    deliver_webhooks: bool = True
    webhook_allow_private: bool = True
    checks_api_kinds: str = ""
    checks_dir: str = "checks"
    backfills_dir: str = "backfills"

    @property
    def allowed_check_kinds(self) -> frozenset[str]:
        """``checks_api_kinds`` as a set of kind names."""
        return frozenset(name.strip() for name in self.checks_api_kinds.split(",") if name.strip())

    prometheus_url: str | None = None
    metrics_token: SecretStr | None = None
    rate_limit_per_second: float = Field(default=0.0, ge=0, le=1_000_000)
    rate_limit_burst: int = Field(default=0, ge=0, le=10_000_000)
    cors_origins: str = ""
    html_csp: str = (
        "default-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )

    @property
    def allowed_cors_origins(self) -> tuple[str, ...]:
        """``cors_origins`` as a tuple of origins."""
        return tuple(name.strip() for name in self.cors_origins.split(",") if name.strip())

    session_secret: str | None = Field(default=None, repr=False)
