"""Inline the shared Glue code of glue_jobs/shared/ into the five scripts of glue_jobs/.

    python -m scripts.dev.glue_scripts [--check]        (make glue-scripts)

Glue Studio takes one file per job, so a script cannot import a module of this repository. The
code the scripts share is written once, as the modules of glue_jobs/shared/, and copied into
each script between two marker lines::

    # --- shared block landing_reader: edit glue_jobs/shared/landing_reader.py, then `make ...`
    ...
    # --- end of shared block landing_reader

A script names the blocks it uses by carrying their markers, each block below the blocks it
uses. This tool writes each script in one order, so that it reads top to bottom: its docstring,
its imports, its own code (constants, SQL, extract, transform, main), then its blocks, in the
order it carries them, with the shared modules' current code between their markers, and last
its ``if __name__ == "__main__":`` guard. Blocks found anywhere else (above the script's own
code, say) are moved there. Python looks a function's names up when the function runs, so
the script's functions may call the blocks' below them; a statement of the script's own that
runs as the script loads and reads a name a block defines is refused, naming its line. The
import section becomes the union of the script's own imports and its blocks', less any name
the finished script does not use. Rewriting a generated script changes nothing. ``--check``
writes nothing and lists the scripts that differ (exit status 1).
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from scripts._cli.errors import CliError, OneLineArgumentParser, fail
from scripts.lake import pipeline

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_PACKAGE = "glue_jobs.shared"
SHARED_DIR = REPO_ROOT / "glue_jobs" / "shared"
REGENERATE = "make glue-scripts"
LINE_LENGTH = 100
BEGIN = re.compile(r"^# --- shared block (\w+):")
END = re.compile(r"^# --- end of shared block (\w+)$")


def begin_marker(name: str) -> str:
    return (f"# --- shared block {name}: edit glue_jobs/shared/{name}.py, "
            f"then `{REGENERATE}`")


def end_marker(name: str) -> str:
    return f"# --- end of shared block {name}"


@dataclass(frozen=True)
class Imported:
    """One imported name: ``import module [as alias]`` (name None) or ``from module import
    name [as alias]``."""

    module: str
    name: str | None = None
    alias: str | None = None

    @property
    def binding(self) -> str:
        """The name the import defines in the importing module."""
        return self.alias or self.name or self.module.split(".")[0]


@dataclass(frozen=True)
class SharedBlock:
    name: str
    imports: tuple[Imported, ...]
    dependencies: tuple[str, ...]  # the shared blocks this one uses, which must come first
    body: str


def imports_of(nodes: list[ast.stmt]) -> list[Imported]:
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [Imported(alias.name, None, alias.asname) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found += [Imported(node.module, alias.name, alias.asname) for alias in node.names]
    return found


def import_section(tree: ast.Module) -> tuple[int, int, list[ast.stmt]]:
    """(first line, last line, statements) of the imports heading a module, after its
    docstring; lines are 1-based and inclusive."""
    body = tree.body[1:] if tree.body and isinstance(tree.body[0], ast.Expr) else tree.body
    statements = []
    for node in body:
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            break
        statements.append(node)
    if not statements:
        raise CliError("a Glue script must start with its docstring and its imports")
    return statements[0].lineno, statements[-1].end_lineno, statements


def read_block(path: Path) -> SharedBlock:
    """A shared module as a block: its imports, the shared blocks it imports from, and its code
    after the imports."""
    text = path.read_text()
    _, last, statements = import_section(ast.parse(text))
    imports = imports_of(statements)
    dependencies = tuple(dict.fromkeys(i.module.rsplit(".", 1)[1] for i in imports
                                       if i.module.startswith(SHARED_PACKAGE + ".")))
    return SharedBlock(name=path.stem,
                       imports=tuple(i for i in imports
                                     if not i.module.startswith(SHARED_PACKAGE)),
                       dependencies=dependencies,
                       body="\n".join(text.splitlines()[last:]).strip("\n") + "\n")


def shared_blocks(folder: Path = SHARED_DIR) -> dict[str, SharedBlock]:
    return {path.stem: read_block(path) for path in sorted(folder.glob("*.py"))
            if path.name != "__init__.py"}


def separate_blocks(text: str, blocks: dict[str, SharedBlock],
                    script: str) -> tuple[list[str | None], list[str]]:
    """The script's own lines, each block's lines (markers included) as None so that the
    others keep their numbers, and the names of the blocks in the order they stand."""
    own: list[str | None] = []
    used, current = [], None
    for number, line in enumerate(text.splitlines(), start=1):
        begin, end = BEGIN.match(line), END.match(line)
        if begin:
            name = begin.group(1)
            if current or name not in blocks:
                raise CliError(f"{script}:{number}: " + (
                    f"shared block {name} opens inside block {current}" if current else
                    f"no shared block {name} (known: {', '.join(blocks)})"))
            missing = [d for d in blocks[name].dependencies if d not in used]
            if missing:
                raise CliError(f"{script}:{number}: shared block {name} uses "
                               f"{', '.join(missing)}: put its block above this one")
            current = name
        elif end:
            if end.group(1) != current:
                raise CliError(f"{script}:{number}: '{line}' closes no open block")
            used.append(current)
            current = None
        own.append(None if begin or end or current else line)
    if current:
        raise CliError(f"{script}: shared block {current} is never closed")
    return own, used


def parse_own(own: list[str | None], script: str) -> ast.Module:
    """The script's own code parsed, its lines numbered as in the script."""
    try:
        return ast.parse("\n".join(line or "" for line in own))
    except SyntaxError as error:
        raise CliError(f"{script}:{error.lineno}: {error.msg}") from None


def guard_index(tree: ast.Module, length: int) -> int:
    """The index of the script's line ``if __name__ == "__main__":`` (``length`` without one)."""
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "__name__ == '__main__'":
            return node.lineno - 1
    return length


def joined(own: list[str | None]) -> list[str]:
    """The runs of lines that blocks separated, stripped of blank lines at either end and
    joined with two blank lines, as between top-level definitions."""
    runs: list[list[str]] = [[]]
    for line in own:
        if line is None:
            runs.append([])
        else:
            runs[-1].append(line)
    lines: list[str] = []
    for run in runs:
        while run and not run[0].strip():
            run.pop(0)
        while run and not run[-1].strip():
            run.pop()
        if run:
            lines += [*(["", ""] if lines else []), *run]
    return lines


def arrange(own: list[str | None], guard: int, used: list[str],
            blocks: dict[str, SharedBlock]) -> str:
    """The script in its order: its own code, its blocks, its guard; two blank lines apart."""
    parts = [joined(own[:guard]),
             *([begin_marker(name), *blocks[name].body.splitlines(), end_marker(name)]
               for name in used),
             joined(own[guard:])]
    lines: list[str] = []
    for part in parts:
        if part:
            lines += [*(["", ""] if lines else []), *part]
    return "\n".join(lines) + "\n"


def bound_names(node: ast.stmt) -> set[str]:
    """The names a top-level statement defines."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {alias.asname or alias.name.split(".")[0] for alias in node.names}
    return {name.id for name in ast.walk(node)
            if isinstance(name, ast.Name) and isinstance(name.ctx, ast.Store)}


def load_time_names(node: ast.AST) -> set[str]:
    """The names a statement reads when the module runs it: all but those in the bodies of the
    functions and lambdas it defines (their decorators, defaults and annotations count)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        arguments = node.args
        evaluated = [*arguments.defaults, *arguments.kw_defaults]
        if not isinstance(node, ast.Lambda):
            every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                     arguments.vararg, arguments.kwarg]
            evaluated += [*node.decorator_list, node.returns,
                          *(a.annotation for a in every if a is not None)]
        return set().union(*(load_time_names(e) for e in evaluated if e is not None))
    if isinstance(node, ast.Name):
        return {node.id} if isinstance(node.ctx, ast.Load) else set()
    return set().union(*(load_time_names(child) for child in ast.iter_child_nodes(node)))


def check_load_order(tree: ast.Module, guard: int, used: list[str],
                     blocks: dict[str, SharedBlock], script: str) -> None:
    """Refuse a statement of the script's own, above its guard, that reads a name one of its
    blocks defines as the script loads: the blocks stand below that code, so the name would
    not be defined yet."""
    defined_by = {name: block for block in used
                  for node in ast.parse(blocks[block].body).body for name in bound_names(node)}
    own_names = set().union(*(bound_names(node) for node in tree.body))
    for node in tree.body:
        if node.lineno - 1 >= guard:
            break  # the guard, and anything after it, stands below the blocks
        early = sorted((load_time_names(node) & defined_by.keys()) - own_names)
        if early:
            first = min(n.lineno for n in [node, *getattr(node, "decorator_list", [])])
            raise CliError(
                f"{script}:{first}: reads {', '.join(early)} of shared block "
                f"{defined_by[early[0]]} as the script loads, but the blocks stand below the "
                "script's own code: read it inside a function")


def used_names(tree: ast.Module) -> set[str]:
    """Every name the module reads, outside its import statements."""
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def sort_key(name: str) -> tuple[int, str]:
    """CONSTANTS, then Classes, then functions, as isort orders the names of one import."""
    kind = 0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2
    return kind, name


def from_import_lines(module: str, names: list[str]) -> list[str]:
    """``from module import a, b`` wrapped in parentheses at LINE_LENGTH, continuation lines
    aligned after the parenthesis."""
    single = f"from {module} import {', '.join(names)}"
    if len(single) <= LINE_LENGTH:
        return [single]
    opening = f"from {module} import ("
    lines, current = [], opening
    for position, name in enumerate(names):
        piece = name + (")" if position == len(names) - 1 else ",")
        candidate = current + ("" if current.endswith("(") else " ") + piece
        if len(candidate) > LINE_LENGTH and not current.endswith("("):
            lines.append(current)
            current = " " * len(opening) + piece
        else:
            current = candidate
    return [*lines, current]


def format_imports(imports: set[Imported]) -> str:
    """Standard library first, then the rest; plain imports before from-imports; aliased
    names on lines of their own."""
    sections = []
    for standard in (True, False):
        group = [i for i in imports
                 if (i.module.split(".")[0] in sys.stdlib_module_names) == standard]
        lines = [f"import {i.module}" + (f" as {i.alias}" if i.alias else "")
                 for i in sorted((g for g in group if g.name is None),
                                 key=lambda g: (g.module, g.alias or ""))]
        for module in sorted({i.module for i in group if i.name is not None}):
            plain = sorted({i.name for i in group if i.module == module and i.name
                            and not i.alias}, key=sort_key)
            if plain:
                lines += from_import_lines(module, plain)
            lines += [f"from {module} import {i.name} as {i.alias}"
                      for i in sorted(group, key=lambda i: (i.name or "", i.alias or ""))
                      if i.module == module and i.name and i.alias]
        if lines:
            sections.append("\n".join(lines))
    return "\n\n".join(sections)


def render_script(text: str, blocks: dict[str, SharedBlock], script: str = "script") -> str:
    """What `make glue-scripts` writes for a script whose current text is ``text``."""
    own, used = separate_blocks(text, blocks, script)
    own_tree = parse_own(own, script)
    guard = guard_index(own_tree, len(own))
    check_load_order(own_tree, guard, used, blocks, script)
    filled = arrange(own, guard, used, blocks)
    tree = ast.parse(filled)
    first, last, statements = import_section(tree)
    wanted = set(imports_of(statements)) | {i for name in used for i in blocks[name].imports}
    needed = used_names(tree)
    imports = {i for i in wanted if i.binding in needed}
    lines = filled.splitlines()
    return "\n".join([*lines[:first - 1], format_imports(imports), *lines[last:]]) + "\n"


def scripts() -> list[Path]:
    return [REPO_ROOT / job.script for job in pipeline.JOBS]


def generate(check_only: bool = False) -> list[Path]:
    """Rewrite every script (or with ``check_only`` only compare); returns those that differ."""
    blocks = shared_blocks()
    differing = []
    for path in scripts():
        current = path.read_text()
        rendered = render_script(current, blocks, str(path.relative_to(REPO_ROOT)))
        if rendered != current:
            differing.append(path)
            if not check_only:
                path.write_text(rendered)
    return differing


def main(argv: list[str] | None = None) -> int:
    parser = OneLineArgumentParser(prog="glue_scripts", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a script differs from its generation")
    args = parser.parse_args(argv)
    try:
        differing = generate(check_only=args.check)
    except CliError as error:
        fail(str(error))
    names = ", ".join(str(p.relative_to(REPO_ROOT)) for p in differing)
    if args.check:
        if differing:
            print(f"not generated: {names}: run `{REGENERATE}`", file=sys.stderr)
            return 1
        print("every Glue script is what its shared blocks generate")
    else:
        print(f"rewrote {names}" if differing else "every Glue script was up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
