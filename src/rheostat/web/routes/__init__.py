"""The dashboard's routes, one module per area; ``ROUTERS`` is the order they are included in."""

from fastapi import APIRouter

from rheostat.web.routes import experiments, flags, login, operations, plans

__all__ = ["ROUTERS"]

ROUTERS: tuple[APIRouter, ...] = (
    login.router,
    flags.router,
    plans.router,
    experiments.router,
    operations.router,
)
