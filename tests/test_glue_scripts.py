"""The generator behind `make glue-scripts`: shared blocks inlined between markers below the
script's own code, imports merged and pruned, and mistakes in the markers named with their
line; and the five scripts in that order."""

from __future__ import annotations

import ast

import pytest

from scripts._cli.errors import CliError
from scripts.dev.glue_scripts import begin_marker, end_marker, render_script, shared_blocks
from tests.support import REPO_ROOT

GREETING = '''"""Greeting."""

import json
from functools import reduce

from pyspark.sql import DataFrame


def greet(frame: DataFrame) -> str:
    return json.dumps({"columns": frame.columns})
'''
LOUD = '''"""Loud greeting: uses the greeting block."""

import sys

from glue_jobs.shared.greeting import greet


def shout(frame) -> str:
    return greet(frame).upper() + sys.platform
'''
GUARD = 'if __name__ == "__main__":\n    main()\n'
SCRIPTS = sorted((REPO_ROOT / "glue_jobs").glob("*.py"))


@pytest.fixture
def blocks(tmp_path):
    (tmp_path / "greeting.py").write_text(GREETING)
    (tmp_path / "loud.py").write_text(LOUD)
    return shared_blocks(tmp_path)


def script(*blocks: str, imports: str = "import sys\n", use: str = "greet",
           guard: str = "") -> str:
    """A script in the old layout: its blocks (stale) above its own code."""
    markers = "\n\n".join(f"{begin_marker(b)}\nstale code\n{end_marker(b)}" for b in blocks)
    return (f'"""A job."""\n\n{imports}\n{markers}\n\n\n'
            f"def main():\n    print({use}(None), sys.argv)\n" + (f"\n\n{guard}" if guard else ""))


def test_a_block_is_inlined_below_the_script_with_the_imports_it_needs_and_no_others(blocks):
    rendered = render_script(script("greeting"), blocks)
    assert rendered == (
        '"""A job."""\n\nimport json\nimport sys\n\nfrom pyspark.sql import DataFrame\n\n\n'
        "def main():\n    print(greet(None), sys.argv)\n\n\n"
        f"{begin_marker('greeting')}\n"
        "def greet(frame: DataFrame) -> str:\n"
        '    return json.dumps({"columns": frame.columns})\n'
        f"{end_marker('greeting')}\n")


def test_blocks_in_the_old_place_move_between_the_scripts_code_and_its_guard(blocks):
    old = (script("greeting", "loud", use="shout", imports="import sys\n\nLIMIT = 3\n",
                  guard=GUARD))
    rendered = render_script(old, blocks)
    assert rendered == (
        '"""A job."""\n\nimport json\nimport sys\n\nfrom pyspark.sql import DataFrame\n\n'
        "LIMIT = 3\n\n\n"
        "def main():\n    print(shout(None), sys.argv)\n\n\n"
        f"{begin_marker('greeting')}\n"
        "def greet(frame: DataFrame) -> str:\n"
        '    return json.dumps({"columns": frame.columns})\n'
        f"{end_marker('greeting')}\n\n\n"
        f"{begin_marker('loud')}\n"
        "def shout(frame) -> str:\n"
        "    return greet(frame).upper() + sys.platform\n"
        f"{end_marker('loud')}\n\n\n"
        f"{GUARD}")


def test_blocks_between_functions_or_after_the_guard_move_too(blocks):
    new = render_script(script("greeting", "loud", use="shout", guard=GUARD), blocks)
    blocks_text = new[new.index(begin_marker("greeting")):new.index(GUARD)]
    main = "def main():\n    print(shout(None), sys.argv)\n"
    between = new.replace(blocks_text, "").replace(main, "def first():\n    pass\n\n\n"
                                                   + blocks_text + main)
    after_guard = new.replace(blocks_text, "") + "\n\n" + blocks_text
    expected = new.replace(main, "def first():\n    pass\n\n\n" + main)
    assert render_script(between, blocks) == expected
    assert render_script(after_guard, blocks) == new


def test_rendering_a_rendered_script_changes_nothing(blocks):
    once = render_script(script("greeting", "loud", use="shout", guard=GUARD), blocks)
    assert render_script(once, blocks) == once


def test_an_import_the_script_no_longer_uses_is_dropped(blocks):
    text = script("greeting", imports="import os\nimport sys\n")
    assert "import os" not in render_script(text, blocks)


def test_a_block_must_follow_the_blocks_it_uses(blocks):
    with pytest.raises(CliError, match=r"job.py:5: shared block loud uses greeting: put its "
                                       "block above this one"):
        render_script(script("loud", use="shout"), blocks, "job.py")


def test_an_unknown_block_is_named(blocks):
    with pytest.raises(CliError, match=r"job.py:5: no shared block nowhere \(known: greeting, "
                                       r"loud\)"):
        render_script(script("nowhere"), blocks, "job.py")


def test_an_unclosed_block_is_named(blocks):
    text = script("greeting").replace(end_marker("greeting") + "\n", "")
    with pytest.raises(CliError, match="job.py: shared block greeting is never closed"):
        render_script(text, blocks, "job.py")


@pytest.mark.parametrize("statement", [
    "GREETER = greet",
    "def main(greeter=greet):\n    pass",
    "@greet\ndef decorated():\n    pass",
    "class Greeter:\n    greeting = greet",
])
def test_the_scripts_own_code_may_not_read_a_blocks_name_as_it_loads(blocks, statement):
    """The blocks stand below the script's own code: a name read as the script loads would
    not be defined yet."""
    text = script("greeting", imports="import sys\n\n" + statement + "\n")
    with pytest.raises(CliError, match=r"job.py:5: reads greet of shared block greeting as "
                                       "the script loads"):
        render_script(text, blocks, "job.py")


def test_the_scripts_functions_and_its_guard_may_use_the_blocks(blocks):
    """Function bodies run later, when the blocks are defined; the guard stands below them."""
    text = script("greeting", guard='if __name__ == "__main__":\n    print(greet(None))\n')
    assert "def greet" in render_script(text, blocks)


def kind(node: ast.stmt, text: str, block_lines: set[int]) -> str:
    if node.lineno in block_lines:
        return "blocks"
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return "docstring"
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return "imports"
    if isinstance(node, ast.Assign):
        return "SQL" if node.targets[0].id.endswith("_SQL") else "constants"
    if isinstance(node, ast.FunctionDef):
        return "functions"
    if isinstance(node, ast.If) and ast.unparse(node.test) == "__name__ == '__main__'":
        return "guard"
    return f"unexpected line {node.lineno}: {ast.get_source_segment(text, node)[:40]!r}"


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.stem)
def test_every_script_reads_top_to_bottom(path):
    """Docstring, imports, constants, SQL, the job's functions (extract, transform, main and
    any other of its own), the shared blocks, the guard."""
    text = path.read_text()
    lines = text.splitlines()
    begins = [n for n, line in enumerate(lines, 1) if line.startswith("# --- shared block ")]
    ends = [n for n, line in enumerate(lines, 1) if line.startswith("# --- end of shared block")]
    assert len(begins) == len(ends) > 0
    block_lines = {n for begin, end in zip(begins, ends) for n in range(begin, end + 1)}
    body = ast.parse(text).body
    kinds = [kind(node, text, block_lines) for node in body]
    order = ["docstring", "imports", "constants", "SQL", "functions", "blocks", "guard"]
    assert set(kinds) == set(order), kinds
    assert kinds == sorted(kinds, key=order.index), kinds
    functions = [node.name for node in body if kinds[body.index(node)] == "functions"]
    extract = min(i for i, name in enumerate(functions) if name.startswith("extract"))
    assert extract < functions.index("transform") < functions.index("main") == len(functions) - 1
    assert lines[ends[-1]:ends[-1] + 3] == ["", "", 'if __name__ == "__main__":']
    assert lines[-1] == "    main()"


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.stem)
def test_a_script_with_its_blocks_in_the_old_place_is_rewritten_to_the_new(path):
    """The blocks back where they stood before (between the SQL and the first function),
    rendering puts them below main again: the committed script, byte for byte."""
    committed = path.read_text()
    lines = committed.splitlines()
    first = next(n for n, line in enumerate(lines) if line.startswith("# --- shared block "))
    last = max(n for n, line in enumerate(lines) if line.startswith("# --- end of shared "))
    first_function = next(n for n, line in enumerate(lines) if line.startswith("def "))
    guard = lines.index('if __name__ == "__main__":')
    old = [*lines[:first_function], *lines[first:last + 1], "", "",
           *lines[first_function:first], *lines[guard:]]
    assert old != lines
    assert render_script("\n".join(old) + "\n", shared_blocks(), path.name) == committed
