"""Local Glue runtime: the awsglue subset the jobs use (in awsglue/) and the Spark session setup.

Put this folder first on sys.path (see ``activate``) so that ``import awsglue`` in an unchanged
Glue script resolves to the local implementation.
"""

from __future__ import annotations

import sys
from pathlib import Path

LOCAL_GLUE_DIR = Path(__file__).resolve().parent


def activate() -> None:
    """Make ``import awsglue`` load the local runtime (idempotent)."""
    if str(LOCAL_GLUE_DIR) not in sys.path:
        sys.path.insert(0, str(LOCAL_GLUE_DIR))
