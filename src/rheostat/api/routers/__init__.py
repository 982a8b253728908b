"""One router per resource; ``ROUTERS`` is the order ``create_app`` includes them in."""

from fastapi import APIRouter

from rheostat.api.routers import (
    alerts,
    audit,
    backfills,
    checks,
    client,
    config,
    delivery,
    environments,
    experiments,
    flag_changes,
    flags,
    health,
    keys,
    metrics,
    migrations,
    plans,
    prometheus_metrics,
    remote_evaluation,
    rollbacks,
    segments,
    stream,
    webhooks,
)

__all__ = ["ROUTERS"]

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    prometheus_metrics.router,
    client.router,
    remote_evaluation.router,
    stream.router,
    delivery.router,
    experiments.client_router,
    metrics.router,
    config.router,
    environments.router,
    flags.router,
    flag_changes.router,
    segments.router,
    keys.router,
    experiments.router,
    plans.router,
    backfills.router,
    rollbacks.router,
    webhooks.router,
    alerts.router,
    checks.router,
    migrations.router,
    audit.router,
)
