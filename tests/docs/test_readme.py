"""Every code snippet of ``README.md`` (and of the docs in ``DOCUMENTS``) runs as written, in order.

The runner reads the fenced blocks of a Markdown document and runs them one after another in one
fresh folder, so a snippet sees the files (and the SQLite database ``./rheostat.db``) that
earlier ones made. ``PATH`` starts with the venv's ``bin``, ``.venv`` in the folder links to the
venv (so ``.venv/bin/rheostat`` resolves) and no ``RHEOSTAT_*`` variable is inherited (so the
database is the default ``sqlite:///./rheostat.db``, and no override changes an answer).

* ```` ```python ```` / ```` ```py ````: run with the venv's python (``python -c``).
  ```` ```sh ```` / ```` ```bash ```` / ```` ```shell ````: run with ``bash -euo pipefail``.
  Other blocks (yaml, toml, json, text, none) are not run. Each block runs in a process of its
  own: files carry over to later blocks, shell variables do not.

Conventions a document can use (HTML comments are invisible on GitHub):

* ``<!-- file: NAME -->`` on the line right before a block: the block is written to ``NAME`` at
  that point of the document instead of being run (``flags.yaml``, used by later snippets).
* ``<!-- not run: REASON -->`` right before a block: the block is not run, for the reason given
  (``make test`` would run this test again).
* A shell line ending in a comment that contains ``(in its own terminal)`` is a server that
  blocks (``rheostat serve``). The runner starts it in the background with ``--port`` set to a
  free loopback port, waits until ``/health`` answers, and gives later snippets its address as
  ``API_URL`` (a snippet reads it as ``${API_URL:-http://127.0.0.1:8000}``, so copy-paste still
  works). The server stops after the document's last snippet.
* A shell line whose trailing comment ends in ``exit N`` must exit with status N (the line is
  meant to fail, as a stale update is refused); any other status fails the snippet.
* A python line ending in ``# -> TEXT`` prints the line TEXT: the snippet's output must be those
  lines, in order.

A failure names the document and line and shows the snippet's stderr.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from rheostat.clock import SystemClock

REPOSITORY = Path(__file__).resolve().parents[2]
VENV = Path(sys.executable).parent.parent  # not resolved: the venv's python may be a symlink
BASH = shutil.which("bash") or "/bin/bash"
DOCUMENTS = ("README.md", "docs/openfeature.md")
LANGUAGES = {"python": "python", "py": "python", "sh": "shell", "bash": "shell", "shell": "shell"}
FENCE = re.compile(r"^```\s*(?P<info>[^`\s]*)[^`]*$")
COMMENT = re.compile(r"^<!--(?P<body>.*)-->\s*$")
DIRECTIVE = re.compile(r"^\s*(?P<name>file|not run):\s*(?P<value>\S.*?)\s*$")
IN_OWN_TERMINAL = "(in its own terminal)"
SERVER_COMMAND = re.compile(r"^(?P<command>.*?\S)\s+#.*$")
EXPECTED_STATUS = re.compile(r"^(?P<command>.*?\S)\s+#[^#]*\bexit (?P<status>\d+)\s*$")
EXPECTED_OUTPUT = re.compile(r"#\s*->\s?(?P<text>.*?)\s*$")
SNIPPET_TIMEOUT_S = 300  # a hung snippet fails the test instead of hanging the suite
READY_WITHIN_S = 60.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Block:
    """A fenced block: where it is, what it is, and what the comment before it says."""

    document: str
    line: int  # the opening fence's line, 1-based
    language: str  # "python", "shell" or "" (not run)
    text: str
    directive: tuple[str, str] | None = None  # ("file", NAME) or ("not run", REASON)

    @property
    def is_snippet(self) -> bool:
        return bool(self.language) and self.directive is None

    @property
    def label(self) -> str:
        return f"{self.document}:{self.line}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """The result of one snippet: ``failure`` is ``None`` or says what went wrong."""

    failure: str | None = None


def read_blocks(document: str, markdown: str) -> list[Block]:
    """Return the document's top-level fenced blocks in order.

    Raises:
        ValueError: an unclosed fence, or an HTML comment right before a block that is not a
            known directive (a typo would silently change what runs).
    """
    lines = markdown.splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        end = next((i for i in range(index + 1, len(lines)) if lines[i].startswith("```")), None)
        if end is None:
            raise ValueError(f"{document}:{index + 1}: the block is never closed")
        blocks.append(
            Block(
                document=document,
                line=index + 1,
                language=LANGUAGES.get(opening["info"].lower(), ""),
                text="\n".join(lines[index + 1 : end]) + "\n",
                directive=_directive(document, lines, index),
            )
        )
        index = end + 1
    return blocks


def _directive(document: str, lines: list[str], fence_index: int) -> tuple[str, str] | None:
    comment = COMMENT.match(lines[fence_index - 1]) if fence_index > 0 else None
    if comment is None:
        return None
    directive = DIRECTIVE.match(comment["body"])
    if directive is None:
        raise ValueError(
            f"{document}:{fence_index}: unknown directive {lines[fence_index - 1]!r} before a "
            "block; expected <!-- file: NAME --> or <!-- not run: REASON -->"
        )
    return directive["name"], directive["value"]


def shell_script(block: Block, first_line: int, lines: list[str]) -> str:
    """Return a bash script for ``lines`` (README lines from ``first_line`` on).

    The first script line is a trap that names the README line of a failing command, so every
    later script line N is README line ``first_line + N - 2``.
    """
    where = f"{block.document}:$((LINENO + {first_line - 2}))"
    trap = f"trap 'status=$?; echo \"{where}: exit status $status\" >&2' ERR"
    body = [
        _expecting_status(block, first_line + offset, line) for offset, line in enumerate(lines)
    ]
    return "\n".join([trap, *body]) + "\n"


def _expecting_status(block: Block, line_number: int, line: str) -> str:
    expected = EXPECTED_STATUS.match(line)
    if expected is None:
        return line
    status = expected["status"]
    message = shlex.quote(f"{block.document}:{line_number}: expected exit status {status}, got ")
    # `if` keeps `set -e` and the ERR trap away from the status we mean to check.
    return (
        f"if {expected['command']}; then status=0; else status=$?; fi; "
        f'if [ "$status" -ne {status} ]; then echo {message}"$status" >&2; exit 1; fi'
    )


class DocumentRun:
    """Runs one document's blocks in order, in one folder, each at most once."""

    def __init__(self, document: str, markdown: str, *, folder: Path, logs: Path) -> None:
        self.blocks = read_blocks(document, markdown)
        self.folder = folder
        self.logs = logs
        self.environment = _environment()
        self.servers: list[subprocess.Popen[bytes]] = []
        self.outcomes: dict[int, Outcome] = {}
        self._next = 0
        (folder / ".venv").symlink_to(VENV, target_is_directory=True)

    def outcome_of(self, line: int) -> Outcome:
        """Run every block up to the one at ``line`` (once) and return that one's outcome."""
        while line not in self.outcomes:
            block = self.blocks[self._next]
            self._next += 1
            self.outcomes[block.line] = self._run(block)
        return self.outcomes[line]

    def stop(self) -> None:
        for server in self.servers:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()

    def _run(self, block: Block) -> Outcome:
        if block.directive is not None and block.directive[0] == "file":
            path = self.folder / block.directive[1]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(block.text, encoding="utf-8")
            return Outcome()
        if not block.is_snippet:
            return Outcome()
        if block.language == "python":
            return self._run_python(block)
        return self._run_shell(block)

    def _run_python(self, block: Block) -> Outcome:
        result = self._execute([str(VENV / "bin" / "python"), "-c", block.text])
        failure = _failure(block, result)
        expected = [
            m["text"] for line in block.text.splitlines() if (m := EXPECTED_OUTPUT.search(line))
        ]
        if failure is None and expected and result.stdout.splitlines() != expected:
            failure = (
                f"{block.label}: the python snippet printed {result.stdout.splitlines()!r}, "
                f"its `# ->` comments say {expected!r}"
            )
        return Outcome(failure=failure)

    def _run_shell(self, block: Block) -> Outcome:
        """Run the block's lines; a server line splits it, and starts between the two parts."""
        lines = block.text.splitlines()
        servers = [i for i, line in enumerate(lines) if IN_OWN_TERMINAL in line]
        start = 0
        for end in [*servers, len(lines)]:
            script = shell_script(block, block.line + 1 + start, lines[start:end])
            failure = _failure(block, self._execute([BASH, "-euo", "pipefail", "-c", script]))
            if failure is None and end < len(lines):
                failure = self._start_server(block, block.line + 1 + end, lines[end])
            if failure is not None:
                return Outcome(failure=failure)
            start = end + 1
        return Outcome()

    def _start_server(self, block: Block, line_number: int, line: str) -> str | None:
        command = SERVER_COMMAND.match(line)
        if command is None:
            return f"{block.document}:{line_number}: a server line needs a trailing comment"
        port = _free_port()
        log = self.logs / f"server-{line_number}.log"
        with log.open("wb") as output:
            server = subprocess.Popen(  # noqa: S603  # the README's own command line
                [BASH, "-c", f"exec {command['command']} --port {port}"],
                cwd=self.folder,
                env=self.environment,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self.servers.append(server)
        url = f"http://127.0.0.1:{port}"
        if not _is_ready(server, url):
            output_text = log.read_text(encoding="utf-8", errors="replace")
            return f"{block.document}:{line_number}: the server did not come up:\n{output_text}"
        self.environment["API_URL"] = url
        return None

    def _execute(self, command: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603  # the document's own snippets, on purpose
            command,
            cwd=self.folder,
            env=self.environment,
            capture_output=True,
            text=True,
            timeout=SNIPPET_TIMEOUT_S,
            check=False,
        )


def _environment() -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RHEOSTAT_")}
    environment["PATH"] = os.pathsep.join([str(VENV / "bin"), environment.get("PATH", "")])
    environment.pop("API_URL", None)
    return environment


def _failure(block: Block, result: subprocess.CompletedProcess[str]) -> str | None:
    if result.returncode == 0:
        return None
    where = (
        f" (its line 1 is {block.document}:{block.line + 1})" if block.language == "python" else ""
    )
    return (
        f"{block.label}: the {block.language} snippet{where} exited with status "
        f"{result.returncode}\n--- stderr ---\n{result.stderr}--- stdout ---\n{result.stdout}"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _is_ready(server: subprocess.Popen[bytes], url: str) -> bool:
    clock = SystemClock()
    deadline = clock.monotonic() + READY_WITHIN_S
    while clock.monotonic() < deadline and server.poll() is None:
        with contextlib.suppress(httpx.TransportError):  # not listening yet
            if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                return True
        clock.sleep(0.1)  # a readiness wait, not an assertion
    return False


def _snippets() -> list[Block]:
    blocks = []
    for document in DOCUMENTS:
        markdown = (REPOSITORY / document).read_text(encoding="utf-8")
        blocks += [block for block in read_blocks(document, markdown) if block.is_snippet]
    return blocks


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, DocumentRun]]:
    """One ``DocumentRun`` per document, each in its own fresh folder; servers stopped after."""
    started = {
        document: DocumentRun(
            document,
            (REPOSITORY / document).read_text(encoding="utf-8"),
            folder=tmp_path_factory.mktemp("snippets"),
            logs=tmp_path_factory.mktemp("snippet-logs"),
        )
        for document in DOCUMENTS
    }
    try:
        yield started
    finally:
        for run in started.values():
            run.stop()


@pytest.mark.parametrize("block", _snippets(), ids=lambda block: block.label)
def test_the_snippet_runs_as_written(block: Block, runs: dict[str, DocumentRun]) -> None:
    # Given the snippets before it, run in the same folder
    run = runs[block.document]

    # When it runs
    outcome = run.outcome_of(block.line)

    # Then it succeeds, with the exit statuses and output its comments promise
    if outcome.failure is not None:
        pytest.fail(outcome.failure, pytrace=False)


# The runner itself: it must fail when a snippet does, and say where.


def _outcomes(markdown: str, folder: Path) -> list[Outcome]:
    (folder / "run").mkdir()
    run = DocumentRun("DOC.md", markdown, folder=folder / "run", logs=folder)
    try:
        return [run.outcome_of(block.line) for block in run.blocks if block.is_snippet]
    finally:
        run.stop()


def test_a_failing_line_is_reported_with_its_document_line_and_stderr(tmp_path: Path) -> None:
    # Given a shell block whose second line fails
    markdown = "# Title\n\n```sh\ntrue\necho 'no such flag' >&2; false\necho never\n```\n"

    # When it runs
    [outcome] = _outcomes(markdown, tmp_path)

    # Then the failure names the block, the failing line and the stderr
    assert outcome.failure is not None
    assert outcome.failure.startswith("DOC.md:3: the shell snippet exited with status 1")
    assert "DOC.md:5: exit status 1" in outcome.failure
    assert "no such flag" in outcome.failure


def test_a_line_meant_to_fail_must_exit_with_the_status_it_names(tmp_path: Path) -> None:
    # Given one line that fails as promised and one that succeeds though it promises exit 1
    markdown = (
        "```bash\nfalse  # refused, exit 1\n```\n\n```bash\ntrue  # stale: refused, exit 1\n```\n"
    )

    # When they run
    kept, broken = _outcomes(markdown, tmp_path)

    # Then only the broken promise fails, naming its line
    assert kept.failure is None
    assert broken.failure is not None
    assert "DOC.md:6: expected exit status 1, got 0" in broken.failure


def test_python_output_must_be_what_the_arrow_comments_say(tmp_path: Path) -> None:
    # Given two python blocks, one printing what it says and one not
    markdown = (
        "```python\nprint(1 + 1)  # -> 2\n```\n\n```python\nprint('long')  # -> short\n```\n"
        "\n```py\nraise SystemExit('broken')\n```\n"
    )

    # When they run
    right, wrong, raising = _outcomes(markdown, tmp_path)

    # Then the mismatch and the error fail, each naming its block
    assert right.failure is None
    assert wrong.failure is not None
    assert wrong.failure.startswith("DOC.md:5: the python snippet printed ['long']")
    assert raising.failure is not None
    assert "DOC.md:9" in raising.failure
    assert "broken" in raising.failure


def test_a_file_block_is_written_where_it_stands_in_the_document(tmp_path: Path) -> None:
    # Given a snippet before a file block and one after it, and a yaml block that is no file
    markdown = (
        "```sh\ntest -f flags.yaml\n```\n\n<!-- file: flags.yaml -->\n```yaml\nversion: 1\n```\n"
        "\n```yaml\nversion: 2\n```\n\n```sh\ngrep -qx 'version: 1' flags.yaml\n```\n"
    )

    # When they run
    before, after = _outcomes(markdown, tmp_path)

    # Then only the later snippet sees the file, with the file block's text
    assert before.failure is not None
    assert after.failure is None


def test_blocks_marked_not_run_and_other_languages_are_not_snippets() -> None:
    # Given a shell block marked not run, a toml block and a plain block
    markdown = (
        "<!-- not run: needs the repository -->\n```sh\nmake test\n```\n```toml\n```\n```\n```\n"
    )

    # When the document is read
    blocks = read_blocks("DOC.md", markdown)

    # Then none of them is a snippet
    assert [block.is_snippet for block in blocks] == [False, False, False]
    assert blocks[0].directive == ("not run", "needs the repository")


def test_an_unknown_comment_right_before_a_block_is_refused() -> None:
    # Given a typo in a directive
    markdown = "<!-- flie: flags.yaml -->\n```yaml\nversion: 1\n```\n"

    # When the document is read, then it is refused with the line
    with pytest.raises(ValueError, match=r"DOC\.md:1: unknown directive"):
        read_blocks("DOC.md", markdown)
