"""The HTTP API: FastAPI routes over ``rheostat.service``; build it with ``create_app``."""

from rheostat.api.app import create_app

__all__ = ["create_app"]
