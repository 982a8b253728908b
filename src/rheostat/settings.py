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
        prometheus_url: the Prometheus HTTP API that ``source: prometheus`` gates query
            (``RHEOSTAT_PROMETHEUS_URL``); unset, those gates answer ``error``.
    """

    model_config = SettingsConfigDict(env_prefix="RHEOSTAT_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    prometheus_url: str | None = None
