"""The repository's layers only point down (docs/developing.md, "Layout and layers").

Every import of a module of this repository, at the top of a file or inside a function, is read
from the source; a module may import modules of its own package or of a lower layer, never of
a higher one. The user's commands are the modules at the top of scripts/: each is a thin
``main()``, and no module imports one of them. The tests' independent references
(scripts/reference/) are imported by tests alone.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support import REPO_ROOT

# Lowest first. A module belongs to the layer of the longest package name that prefixes it.
LAYERS = (
    ("glue_jobs.shared", "scripts._cli"),  # the jobs' shared code; command-line helpers
    ("scripts.lake",),  # the pipeline definition, the key file, DDL, query engine, run report
    ("scripts.sample_data",),  # the data generator
    ("scripts.local_glue",),  # the local Glue runtime, its runner, Java and the class archive
    ("scripts.aws",),  # deploy's AWS steps, its configuration and workflow runner
    ("scripts.erasure", "scripts.reference"),  # forgetting a customer; the tests' references
    ("scripts.dev", "scripts"),  # developer tools; the user's commands
)
PACKAGES = {package: rank for rank, packages in enumerate(LAYERS) for package in packages}
COMMANDS_RANK = len(LAYERS) - 1


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_modules() -> dict[str, Path]:
    """Every Python module of scripts/ and glue_jobs/ by its dotted name, but the five Glue
    scripts, which import nothing of the repository (they are uploaded alone)."""
    found = {}
    for folder in ("scripts", "glue_jobs"):
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            name = module_name(path)
            if name.startswith("glue_jobs.") and not name.startswith("glue_jobs.shared"):
                continue
            found[name] = path
    return found


MODULES = source_modules()
COMMANDS = sorted(name for name, path in MODULES.items()
                  if name.count(".") == 1 and name.startswith("scripts.")
                  and path.name != "__init__.py")


def package_of(module: str) -> str:
    """The longest package of LAYERS that holds the module."""
    return max((package for package in PACKAGES
                if module == package or module.startswith(package + ".")), key=len)


def imported_modules(path: Path) -> set[str]:
    """The modules of this repository the file imports (``from scripts import x`` imports
    the module scripts.x when there is one)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in MODULES
                     else node.module for alias in node.names]
        else:
            continue
        found |= {name for name in names if name.split(".")[0] in ("scripts", "glue_jobs")}
    return found


def is_command(module: str) -> bool:
    return module in COMMANDS


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_module_imports_only_its_own_package_and_lower_layers(module):
    package = package_of(module)
    upward = sorted(imported for imported in imported_modules(MODULES[module])
                    if package_of(imported) != package
                    and PACKAGES[package_of(imported)] >= PACKAGES[package])
    assert upward == [], f"{module} ({package}) imports a layer at or above its own"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_a_command(module):
    assert [imported for imported in imported_modules(MODULES[module])
            if is_command(imported) and imported != module] == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_only_tests_import_the_references(module):
    if package_of(module) == "scripts.reference":
        return  # the references may share their own helpers
    assert [imported for imported in imported_modules(MODULES[module])
            if imported.startswith("scripts.reference")] == []


def test_the_modules_at_the_top_of_scripts_are_the_users_commands():
    """Each has a main() and runs it as ``python -m scripts.<command>``."""
    for command in COMMANDS:
        tree = ast.parse(MODULES[command].read_text())
        functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        guards = [node for node in tree.body if isinstance(node, ast.If)
                  and "__main__" in ast.unparse(node.test)]
        assert "main" in functions and guards, f"{command} is not a command"
    assert PACKAGES[package_of(COMMANDS[0])] == COMMANDS_RANK


def test_every_package_of_scripts_has_a_layer():
    packages = {name for name, path in MODULES.items() if path.name == "__init__.py"}
    assert {package for package in packages if package.count(".") == 1} <= set(PACKAGES)
