"""Two import-linter contract types that the built-in ones do not cover.

``allowlist`` lists what a package MAY import. ``protected_libraries`` is the built-in
``protected`` contract for third-party libraries that may not be imported anywhere yet.

import-linter's built-in ``forbidden`` contract lists what a package must not import, so a new
dependency (``rich``, ``psycopg``) slips past it until someone remembers to add it. The
``allowlist`` contract turns the rule around: each module inside the source packages may import
only

- modules inside its own source package,
- the standard library (``sys.stdlib_module_names``), less the names in ``stdlib_except``,
- the ``allowed_modules`` and their descendants.

Only direct imports are checked: what an allowed module imports in turn is the business of that
module's own contract. The graph must be built with ``include_external_packages = true``, or
third-party imports would be invisible.

Both are registered in ``pyproject.toml`` under ``contract_types``; ``lint-imports`` puts the
working directory on ``sys.path``, so run it from the repository root.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import grimp
from importlinter import Contract, ContractCheck, fields, output
from importlinter.application import contract_utils
from importlinter.contracts.protected import ProtectedContract
from importlinter.domain.imports import Module, ModuleExpression

__all__ = ["AllowlistContract", "ProtectedLibrariesContract"]


@dataclass(frozen=True, order=True, kw_only=True)
class IllegalImport:
    """One direct import that no rule of the contract allows."""

    importer: str
    imported: str
    line_numbers: tuple[int, ...]


class AllowlistContract(Contract):
    """Source packages import only their own modules, the stdlib and an explicit allowlist.

    Configuration options:
        - source_modules: the packages (or, with ``as_packages = false``, the single modules)
          whose direct imports are checked. Each must exist, so a typo fails loudly.
        - allowed_modules: modules that may be imported, with their descendants. (Optional.)
        - stdlib: whether the standard library may be imported. Default true.
        - stdlib_except: standard-library top-level modules that may not be imported even so.
          (Optional.)
        - as_packages: whether a source module includes its descendants. Default true.
        - ignore_imports: import expressions to leave out, as in the built-in contracts.
          (Optional.)
        - unmatched_ignore_imports_alerting: "none", "warn" or "error" (the default) when an
          ``ignore_imports`` entry matches nothing.
    """

    type_name = "allowlist"

    source_modules = fields.ListField(subfield=fields.ModuleField())
    allowed_modules = fields.ListField(subfield=fields.ModuleField(), required=False)
    stdlib = fields.BooleanField(required=False, default=True)
    stdlib_except = fields.ListField(subfield=fields.StringField(), required=False)
    as_packages = fields.BooleanField(required=False, default=True)
    ignore_imports = fields.SetField(subfield=fields.ImportExpressionField(), required=False)
    unmatched_ignore_imports_alerting = fields.EnumField(
        contract_utils.AlertLevel, default=contract_utils.AlertLevel.ERROR
    )

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        """Return the contract kept unless a direct import leaves the allowlist."""
        if str(self.session_options.get("include_external_packages")).lower() != "true":
            raise ValueError("allowlist contracts need include_external_packages = true")
        import_removal = contract_utils.remove_ignored_imports_and_report(
            graph=graph,
            ignore_imports=self.ignore_imports,  # type: ignore[arg-type]
            unmatched_alerting=self.unmatched_ignore_imports_alerting,  # type: ignore[arg-type]
        )
        illegal = sorted(
            illegal_import
            for source in self.source_modules  # type: ignore[attr-defined]
            for illegal_import in self._illegal_imports_from(graph, source.name)
        )
        output.verbose_print(verbose, f"Found {len(illegal)} imports outside the allowlist.")
        return ContractCheck(
            kept=not illegal,
            warnings=list(import_removal.warnings),
            ignored_import_count=import_removal.ignored_import_count,
            metadata={"illegal_imports": illegal},
        )

    def render_broken_contract(self, check: ContractCheck) -> None:
        """Print each import outside the allowlist with its line numbers."""
        for illegal_import in check.metadata["illegal_imports"]:
            lines = ", ".join(str(number) for number in illegal_import.line_numbers)
            output.print_error(
                f"- {illegal_import.importer} -> {illegal_import.imported} (l.{lines})",
                bold=False,
            )
        output.new_line()

    def _illegal_imports_from(self, graph: grimp.ImportGraph, source: str) -> list[IllegalImport]:
        if source not in graph.modules:
            raise ValueError(f"Module '{source}' does not exist.")
        importers = {source}
        if self.as_packages:
            importers |= graph.find_descendants(source)
        return [
            IllegalImport(
                importer=importer,
                imported=imported,
                line_numbers=_line_numbers(graph, importer, imported),
            )
            for importer in importers
            for imported in graph.find_modules_directly_imported_by(importer)
            if not self._is_allowed(imported, source=source)
        ]

    def _is_allowed(self, imported: str, *, source: str) -> bool:
        if self.as_packages and _is_within(imported, source):
            return True
        top_level = imported.partition(".")[0]
        allowed: list[Module] = self.allowed_modules or []  # type: ignore[assignment]
        if any(_is_within(imported, module.name) for module in allowed):
            return True
        excluded: list[str] = self.stdlib_except or []  # type: ignore[assignment]
        return bool(self.stdlib) and top_level in sys.stdlib_module_names - set(excluded)


def _is_within(name: str, package: str) -> bool:
    return name == package or name.startswith(f"{package}.")


def _line_numbers(graph: grimp.ImportGraph, importer: str, imported: str) -> tuple[int, ...]:
    details = graph.get_import_details(importer=importer, imported=imported)
    return tuple(sorted({detail["line_number"] for detail in details}))


class ProtectedLibrariesContract(ProtectedContract):
    """``protected``, except that a third-party library nothing imports is simply kept.

    The built-in contract stops with "not present in the graph" for a protected module that no
    module imports, yet a library nobody imports is protected by definition: ``psycopg`` is
    loaded by SQLAlchemy by URL, never imported by rheostat, and must stay that way. Modules of
    the root package are still required to exist, so a misspelt one fails loudly.
    """

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        """Check the protected modules that are in the graph, as ``protected`` does."""
        root_packages = [Module(name) for name in self.session_options["root_packages"]]
        expressions: list[ModuleExpression] = self.protected_modules  # type: ignore[assignment]
        self.protected_modules = [  # type: ignore[assignment]
            expression
            for expression in expressions
            if expression.has_wildcard_expression()
            or expression.expression in graph.modules
            or any(Module(expression.expression).is_in_package(root) for root in root_packages)
        ]
        try:
            return super().check(graph, verbose)
        finally:
            self.protected_modules = expressions  # type: ignore[assignment]
