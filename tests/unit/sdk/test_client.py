"""Client.from_file: local evaluation, environment overrides and reloading."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from rheostat import ConfigurationError, Context, ErrorCode, InvalidDefinition, Reason
from rheostat.sdk import Client

DOCUMENT = {
    "version": 1,
    "flags": {
        "new-checkout": {"default": "off", "rules": [{"serve": "on"}]},
        "copy": {"variants": {"a": "A", "b": "B"}, "default": "a"},
    },
}
USER = Context(key="user-1")


@pytest.fixture
def flag_file(tmp_path: Path) -> Path:
    path = tmp_path / "flags.yaml"
    path.write_text(yaml.safe_dump(DOCUMENT))
    return path


def test_a_file_client_evaluates_locally(flag_file: Path) -> None:
    with Client.from_file(flag_file, environ={}, watch=False) as client:
        assert client.is_enabled("new-checkout", USER) is True
        assert client.evaluate("copy", USER, default="x").value == "A"
        assert client.variant("copy", USER).name == "a"


def test_a_kill_variable_forces_the_flag_off(flag_file: Path) -> None:
    environ = {"RHEOSTAT_KILL_NEW_CHECKOUT": "1"}
    with Client.from_file(flag_file, environ=environ, watch=False) as client:
        evaluation = client.evaluate("new-checkout", USER, default=True)
        assert (evaluation.value, evaluation.reason) == (False, Reason.OVERRIDE)
        assert client.is_enabled("new-checkout", USER) is False


def test_a_flag_variable_forces_a_variant_and_a_kill_wins_over_it(flag_file: Path) -> None:
    forced = {"RHEOSTAT_FLAG_COPY": "b"}
    with Client.from_file(flag_file, environ=forced, watch=False) as client:
        assert client.evaluate("copy", USER).variant == "b"
        assert client.evaluate("copy", USER).reason is Reason.OVERRIDE
    both = {"RHEOSTAT_FLAG_COPY": "b", "RHEOSTAT_KILL_COPY": "true"}
    with Client.from_file(flag_file, environ=both, watch=False) as client:
        assert client.evaluate("copy", USER).variant == "a"
        assert client.variant("copy", USER).enabled is False


def test_a_plain_str_is_the_context_with_that_key(flag_file: Path) -> None:
    with Client.from_file(flag_file, environ={}, watch=False) as client:
        assert client.is_enabled("new-checkout", "user-1") is True
        assert client.variant("copy", "user-1") == client.variant("copy", USER)
        assert client.evaluate("copy", "user-1", default="x") == client.evaluate(
            "copy", USER, default="x"
        )


@pytest.mark.parametrize("context", [None, 7, {"key": "user-1"}], ids=["None", "int", "dict"])
def test_a_context_of_another_type_returns_the_default_quietly(
    flag_file: Path,
    context: Any,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with Client.from_file(flag_file, environ={}, watch=False) as client:
        # When a caller passes neither a Context nor a str
        evaluation = client.evaluate("copy", context, default="x")
        # Then the default comes back with INVALID_CONTEXT, and nothing is printed or logged
        assert (evaluation.value, evaluation.reason) == ("x", Reason.ERROR)
        assert evaluation.error_code is ErrorCode.INVALID_CONTEXT
        assert client.is_enabled("new-checkout", context, default=True) is True
        assert client.variant("copy", context).name == "disabled"
    assert capsys.readouterr() == ("", "")
    assert [record for record in caplog.records if record.levelno > logging.DEBUG] == []


def test_an_override_naming_an_unknown_variant_is_refused(flag_file: Path) -> None:
    with pytest.raises(ConfigurationError, match="RHEOSTAT_FLAG_COPY=c: flag 'copy' has no such"):
        Client.from_file(flag_file, environ={"RHEOSTAT_FLAG_COPY": "c"}, watch=False)


def test_reload_swaps_in_a_changed_file(flag_file: Path) -> None:
    with Client.from_file(flag_file, environ={}, watch=False) as client:
        changed = {"version": 1, "flags": {"new-checkout": {"default": "off"}}}
        flag_file.write_text(yaml.safe_dump(changed) + "\n# a change of size\n")
        assert client.reload() is True
        assert client.is_enabled("new-checkout", USER) is False


def test_a_broken_file_keeps_the_last_good_flags(flag_file: Path) -> None:
    with Client.from_file(flag_file, environ={}, watch=False) as client:
        flag_file.write_text("flags: {new-checkout: {default: nope}}\n")
        assert client.reload() is False
        assert client.is_enabled("new-checkout", USER) is True
        assert client.last_error is not None
        assert "flags.new-checkout.default" in str(client.last_error)


LATIN1 = "flags:\n  new-checkout: {description: caf\xe9}\n".encode("latin-1")
"""A file that is not UTF-8: 0xe9 ("é" in Latin-1) at byte offset 40."""


def test_a_file_that_is_not_utf8_is_refused_at_start(tmp_path: Path) -> None:
    # Given a Latin-1 file
    path = tmp_path / "flags.yaml"
    path.write_bytes(LATIN1)
    # Then the client refuses it as a bad definition naming the file and the byte offset
    with pytest.raises(InvalidDefinition, match="not UTF-8 text: byte 0xe9 at byte offset 40"):
        Client.from_file(path, environ={}, watch=False)


def test_a_reload_of_a_file_that_is_not_utf8_keeps_the_last_good_flags(flag_file: Path) -> None:
    with Client.from_file(flag_file, environ={}, watch=False) as client:
        # When the file is replaced by one that is not UTF-8
        flag_file.write_bytes(LATIN1)
        # Then the reload fails, the last good flags stay, and the error names file and offset
        assert client.reload() is False
        assert client.is_enabled("new-checkout", USER) is True
        assert isinstance(client.last_error, InvalidDefinition)
        assert str(client.last_error).startswith(f"{flag_file}: not UTF-8 text")
        assert "byte offset 40" in str(client.last_error)


def test_the_watcher_picks_up_a_change_by_itself(flag_file: Path) -> None:
    # Given a watching client
    with Client.from_file(flag_file, environ={}, poll_interval_s=0.01) as client:
        # When the file changes (bumping mtime explicitly: coarse filesystems may not)
        flag_file.write_text(yaml.safe_dump({"flags": {"new-checkout": {"default": "off"}}}))
        stat = flag_file.stat()
        os.utime(flag_file, (stat.st_atime, stat.st_mtime + 5))
        # Then, within a generous bound, the new flags are served
        changed = threading.Event()
        for _ in range(1000):
            if not client.is_enabled("new-checkout", USER):
                changed.set()
                break
            changed.wait(0.01)
        assert changed.is_set()
