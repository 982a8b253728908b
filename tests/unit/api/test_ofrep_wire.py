"""OFREP's wire format (``rheostat.api.ofrep``) and the compiled-snapshot cache: pure, no server.

A bad body is a value, never an exception; the bulk ETag moves with the environment, the flags
and the context and with nothing else.
"""

from __future__ import annotations

import pytest

from rheostat.api import ofrep
from rheostat.flags import Context, ErrorCode, Reason
from rheostat.service.remote_evaluation import FlagResult, FlagSetCache
from rheostat.service.snapshots import Snapshot, entity_tag


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"[" * 100_000 + b"]" * 100_000, ErrorCode.PARSE_ERROR),  # deeper than the parser goes
        (b'{"context": {"n": ' + b"9" * 5000 + b"}}", ErrorCode.PARSE_ERROR),  # over int digits
        (b'{"context": {"n": Infinity}}', ErrorCode.PARSE_ERROR),
        (b'"just text"', ErrorCode.INVALID_CONTEXT),
        (b'{"context": [1]}', ErrorCode.INVALID_CONTEXT),
        (b'{"context": {"targetingKey": null, "x": 1}}', None),
        (b'{"context": {"targetingKey": ["u"]}}', ErrorCode.INVALID_CONTEXT),
    ],
)
def test_a_body_is_parsed_or_refused_as_a_value(body: bytes, code: ErrorCode | None) -> None:
    parsed = ofrep.parse_request(body)
    if code is None:
        assert isinstance(parsed, ofrep.OfrepRequest)
    else:
        assert isinstance(parsed, ofrep.RequestProblem)
        assert parsed.error_code is code


def test_the_targeting_key_is_the_contexts_key_and_the_rest_attributes() -> None:
    parsed = ofrep.parse_request(b'{"context": {"targetingKey": "u-1", "plan": "pro", "n": 2}}')
    assert isinstance(parsed, ofrep.OfrepRequest)
    assert parsed.context == Context(key="u-1", attributes={"plan": "pro", "n": 2})


def test_the_bulk_etag_moves_with_environment_flags_and_context_only() -> None:
    def tag(environment: str, document: str, body: bytes) -> str:
        parsed = ofrep.parse_request(body)
        assert isinstance(parsed, ofrep.OfrepRequest)
        return ofrep.bulk_entity_tag(environment, document, parsed)

    base = tag("production", '"abc"', b'{"context": {"targetingKey": "u", "a": 1, "b": 2}}')
    assert base == tag("production", '"abc"', b'{"context":{"b":2,"targetingKey":"u","a":1}}')
    assert base != tag("staging", '"abc"', b'{"context": {"targetingKey": "u", "a": 1, "b": 2}}')
    assert base != tag("production", '"abd"', b'{"context": {"targetingKey": "u", "a": 1, "b": 2}}')
    assert base != tag("production", '"abc"', b'{"context": {"targetingKey": "v", "a": 1, "b": 2}}')
    assert base.startswith('"')
    assert base.endswith('"')


def test_results_render_in_ofrep_shape_with_openfeature_reasons() -> None:
    served = FlagResult(key="f", value=True, variant="on", reason=Reason.SPLIT, version=3)
    failed = FlagResult(key="f", value=None, variant=None, reason=Reason.PREREQUISITE_FAILED)
    missing = FlagResult(
        key="g", value=None, variant=None, reason=Reason.ERROR,
        error_code=ErrorCode.FLAG_NOT_FOUND, message="flag 'g' was not found",
    )  # fmt: skip
    assert ofrep.render_result(served) == {
        "key": "f",
        "value": True,
        "reason": "SPLIT",
        "variant": "on",
        "metadata": {"rheostatReason": "SPLIT", "flagVersion": 3},
    }
    assert ofrep.render_result(failed)["reason"] == "DISABLED"
    assert ofrep.ofrep_reason(Reason.STALE) == "UNKNOWN"
    assert ofrep.single_status(served) == 200
    assert ofrep.single_status(missing) == 404
    assert ofrep.render_result(missing)["errorCode"] == "FLAG_NOT_FOUND"


def test_encoding_escapes_what_utf8_cannot_hold() -> None:
    assert ofrep.encode({"key": "\ud800é"}) == b'{"key":"\\ud800\\u00e9"}'


def _snapshot(document: dict[str, object], revision: int) -> Snapshot:
    return Snapshot(
        environment="production", document=document, etag=entity_tag(document), revision=revision
    )


def test_the_cache_compiles_once_per_document() -> None:
    cache = FlagSetCache()
    document: dict[str, object] = {"version": 1, "flags": {"f": {}}}
    first = cache.compiled(_snapshot(document, 1))
    again = cache.compiled(_snapshot(document, 1))
    same_document_later = cache.compiled(_snapshot(document, 2))
    kept = cache.compiled(_snapshot(document, 2))
    changed = cache.compiled(_snapshot({"version": 1, "flags": {"f": {"enabled": False}}}, 3))

    assert again is first
    assert same_document_later.flags is first.flags
    assert same_document_later.revision == 2
    assert kept is same_document_later
    assert changed.flags is not first.flags
    assert changed.flags.evaluate("f", "u").reason is Reason.DISABLED


def test_flags_that_bucket_by_key_are_known_when_compiled() -> None:
    split = {"serve": {"split": {"on": 50, "off": 50}}}
    by_org = {"serve": {"split": {"on": 50, "off": 50}, "by": "org"}}
    document: dict[str, object] = {
        "flags": {
            "keyed": {"rules": [split]},
            "by-org": {"rules": [by_org]},
            "killed": {"enabled": False, "rules": [split]},
            "static": {},
        }
    }
    assert FlagSetCache().compiled(_snapshot(document, 1)).keyed_flags == {"keyed"}
