"""No module of ``src/rheostat`` grows past about 400 lines (CONVENTIONS.md, "Size and shape").

A module that long holds more than one concept; split it by domain instead of raising the
limit. A package's ``__init__.py`` that only re-exports (a docstring, imports, ``__all__``) is
exempt: its length is the package's public surface, not its logic.
"""

from __future__ import annotations

import ast
from pathlib import Path

import rheostat

MAX_LINES = 420
SOURCE = Path(rheostat.__file__).resolve().parent


def _only_reexports(tree: ast.Module) -> bool:
    """A docstring, imports and ``__all__``, nothing else."""
    body = tree.body[1:] if ast.get_docstring(tree, clean=False) is not None else tree.body
    return all(_is_reexport(statement) for statement in body)


def _is_reexport(statement: ast.stmt) -> bool:
    if isinstance(statement, ast.Import | ast.ImportFrom):
        return True
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, ast.AnnAssign):
        targets = [statement.target]
    else:
        return False
    return all(isinstance(target, ast.Name) and target.id == "__all__" for target in targets)


def _is_exempt(path: Path, text: str) -> bool:
    return path.name == "__init__.py" and _only_reexports(ast.parse(text))


def _oversized(root: Path) -> list[tuple[str, int]]:
    found = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = len(text.splitlines())
        if lines > MAX_LINES and not _is_exempt(path, text):
            found.append((path.relative_to(root.parent).as_posix(), lines))
    return found


def test_every_module_is_at_most_420_lines() -> None:
    # Given every Python module of the package, re-exporting __init__.py files aside
    # When their lines are counted
    oversized = _oversized(SOURCE)

    # Then none is over the limit
    listed = "\n".join(f"  {path}: {lines} lines" for path, lines in oversized)
    assert not oversized, (
        f"modules over {MAX_LINES} lines (split them by concept, see CONVENTIONS.md):\n{listed}"
    )


def test_the_check_finds_a_long_module_and_spares_a_reexporting_init(tmp_path: Path) -> None:
    # Given a long module, a long __init__.py that only re-exports, and one with logic
    package = tmp_path / "rheostat"
    (package / "logic").mkdir(parents=True)
    (package / "long.py").write_text("x = 1\n" * (MAX_LINES + 1), encoding="utf-8")
    reexports = '"""Docs."""\n\nfrom a import b\n' + "\n" * MAX_LINES + '__all__ = ["b"]\n'
    (package / "__init__.py").write_text(reexports, encoding="utf-8")
    logic = "from a import b\n" + "\n" * MAX_LINES + "def f() -> None:\n    pass\n"
    (package / "logic" / "__init__.py").write_text(logic, encoding="utf-8")

    # When the check runs over them
    oversized = _oversized(package)

    # Then the long module and the __init__.py with logic are named, with their lengths
    assert oversized == [
        ("rheostat/logic/__init__.py", MAX_LINES + 3),
        ("rheostat/long.py", MAX_LINES + 1),
    ]
