"""Reading the API key from a request, and who a change is recorded as.

Keys travel as ``Authorization: Bearer <key>``; ``X-API-Key: <key>`` is accepted too, for
scripts written against the seeds' APIs. Checking the key and its scope is the service's job
(``service.authenticate`` and ``service.authorize``).
"""

from __future__ import annotations

from rheostat.errors import Unauthenticated
from rheostat.service import ApiKey

__all__ = ["actor_for", "read_token"]

_MISSING = "missing API key: send 'Authorization: Bearer <key>'"
_MALFORMED = "the Authorization header must be 'Bearer <key>'"


def read_token(authorization: str | None, x_api_key: str | None) -> str:
    """Return the token a request carries.

    Raises:
        Unauthenticated: no key at all, or an ``Authorization`` header of another scheme.
    """
    if authorization is not None and authorization.strip():
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated(_MALFORMED)
        return token.strip()
    if x_api_key is not None and x_api_key.strip():
        return x_api_key.strip()
    raise Unauthenticated(_MISSING)


def actor_for(api_key: ApiKey) -> str:
    """Return how changes made with ``api_key`` are recorded in the audit log."""
    return f"api-key:{api_key.name}"
