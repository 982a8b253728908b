"""Settings read from the environment (``RHEOSTAT_*``); built by entry points, never at import."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_DATABASE_URL", "Settings"]

DEFAULT_DATABASE_URL = "sqlite:///./rheostat.db"


class Settings(BaseSettings):
    """Process settings.

    Attributes:
        database_url: SQLAlchemy URL (``RHEOSTAT_DATABASE_URL``). SQLite by default;
            ``postgresql://`` and ``postgres://`` are rewritten to ``postgresql+psycopg://``.
    """

    model_config = SettingsConfigDict(env_prefix="RHEOSTAT_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
