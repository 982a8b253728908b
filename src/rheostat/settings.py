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
    """

    model_config = SettingsConfigDict(env_prefix="RHEOSTAT_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    stream_keepalive_s: float = Field(default=15.0, gt=0, le=3600)
    stream_poll_s: float = Field(default=1.0, gt=0, le=3600)
    stream_max_s: float = Field(default=900.0, gt=0, le=86_400)
