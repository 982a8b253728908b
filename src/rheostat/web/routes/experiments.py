"""Experiments: the list, and each one's per-arm table, lift chart, SRM warning and validity."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse

from rheostat import service
from rheostat.errors import RheostatError
from rheostat.web.charts import interval_chart
from rheostat.web.deps import SignedIn, store_of
from rheostat.web.experiment_views import results_view
from rheostat.web.routes.common import page, problem, read_environment_rows

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
EnvironmentParam = Annotated[str | None, Query(max_length=63)]


@router.get("/experiments")
def experiments_page(
    request: Request, viewer: SignedIn, environment: EnvironmentParam = None
) -> HTMLResponse:
    """The environment's experiments and their status."""
    environments, chosen, records = read_environment_rows(
        request, environment, service.list_experiments
    )
    return page(
        "experiments.html",
        viewer=viewer,
        active="/experiments",
        title="Experiments",
        request=request,
        environments=environments,
        environment=chosen,
        experiments=[record.experiment for record in records],
    )


@router.get("/experiments/{environment}/{key}")
def experiment_page(request: Request, viewer: SignedIn, environment: str, key: str) -> HTMLResponse:
    """Results computed now (and stored, as ``GET /api/v1/experiments/{key}/results`` does)."""
    try:
        with store_of(request).unit_of_work() as uow:
            report = service.experiment_results(uow, environment, key)
    except RheostatError as error:
        return problem(error, viewer=viewer, request=request, back="/experiments")
    view = results_view(report.document)
    chart = interval_chart(view.lift, title=f"{key}: relative lift against control, 95% CI")
    return page(
        "experiment.html",
        viewer=viewer,
        active="/experiments",
        title=f"Experiment {key}",
        request=request,
        environment=environment,
        experiment=report.experiment,
        results=view,
        chart=chart,
    )
