"""The generator behind `make glue-scripts`: shared blocks inlined between markers, imports
merged and pruned, and mistakes in the markers named with their line."""

from __future__ import annotations

import pytest

from scripts._cli.errors import CliError
from scripts.dev.glue_scripts import begin_marker, end_marker, render_script, shared_blocks

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


@pytest.fixture
def blocks(tmp_path):
    (tmp_path / "greeting.py").write_text(GREETING)
    (tmp_path / "loud.py").write_text(LOUD)
    return shared_blocks(tmp_path)


def script(*blocks: str, imports: str = "import sys\n", use: str = "greet") -> str:
    markers = "\n\n".join(f"{begin_marker(b)}\nstale code\n{end_marker(b)}" for b in blocks)
    return (f'"""A job."""\n\n{imports}\n{markers}\n\n\n'
            f"def main():\n    print({use}(None), sys.argv)\n")


def test_a_block_is_inlined_with_the_imports_it_needs_and_no_others(blocks):
    rendered = render_script(script("greeting"), blocks)
    assert rendered == (
        '"""A job."""\n\nimport json\nimport sys\n\nfrom pyspark.sql import DataFrame\n\n'
        f"{begin_marker('greeting')}\n"
        "def greet(frame: DataFrame) -> str:\n"
        '    return json.dumps({"columns": frame.columns})\n'
        f"{end_marker('greeting')}\n\n\n"
        "def main():\n    print(greet(None), sys.argv)\n")


def test_rendering_a_rendered_script_changes_nothing(blocks):
    once = render_script(script("greeting", "loud", use="shout"), blocks)
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
