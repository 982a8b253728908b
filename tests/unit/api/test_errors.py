"""Every rheostat error code has its HTTP status, and locations render as field paths."""

from __future__ import annotations

import pytest

from rheostat import errors
from rheostat.api.errors import STATUS_BY_CODE, error_body, field_path, status_for


@pytest.mark.parametrize(
    ("error_class", "status"),
    [
        (errors.NotFound, 404),
        (errors.AlreadyExists, 409),
        (errors.Conflict, 409),
        (errors.ValidationError, 422),
        (errors.InvalidDefinition, 422),
        (errors.Unauthenticated, 401),
        (errors.PermissionDenied, 403),
        (errors.StorageError, 503),
        (errors.ConfigurationError, 500),
    ],
)
def test_each_error_code_maps_to_its_status(
    error_class: type[errors.RheostatError], status: int
) -> None:
    # Given an error class / When its code is looked up / Then the status is the documented one
    assert status_for(error_class.code) == status


def test_every_error_in_the_tree_has_a_status() -> None:
    # Given every public error class of rheostat.errors
    codes = {getattr(errors, name).code for name in errors.__all__ if name != "RheostatError"}

    # When / Then each has an entry, so none falls through to 500 by accident
    assert codes <= set(STATUS_BY_CODE)


def test_an_unknown_code_is_a_server_error() -> None:
    # Given / When / Then
    assert status_for("something_new") == 500


def test_the_error_body_has_one_shape() -> None:
    # Given / When the body of an error is built
    body = error_body("conflict", "stale", {"current_version": 3})

    # Then it is {"error": {"code", "message", "details"}}
    assert body == {
        "error": {"code": "conflict", "message": "stale", "details": {"current_version": 3}}
    }


@pytest.mark.parametrize(
    ("location", "path"),
    [
        (("body", "percent"), "body.percent"),
        (("body", "definition", "rules", 0, "serve"), "body.definition.rules[0].serve"),
        (("query", "environment"), "query.environment"),
        ((), ""),
    ],
)
def test_locations_render_as_dotted_paths(location: tuple[object, ...], path: str) -> None:
    # Given a pydantic location / When it is rendered / Then it reads as a path
    assert field_path(location) == path
