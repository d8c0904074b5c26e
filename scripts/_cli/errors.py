"""What every command-line tool of this project shares: one-line errors with exit status 2."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

USAGE_ERROR = 2


class CliError(Exception):
    """A user mistake or an environment problem: reported as one line, exit status 2."""


class OneLineArgumentParser(argparse.ArgumentParser):
    """argparse prints the whole usage before an error; a user needs the one line that matters."""

    def error(self, message: str) -> NoReturn:
        fail(f"{self.prog}: {message} (see --help)")


def fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(USAGE_ERROR)
