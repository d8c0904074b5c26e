"""Polling with exponential backoff and a deadline, for Athena queries and Glue job runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from scripts.aws.errors import WaitTimeoutError

T = TypeVar("T")


def wait_for(poll: Callable[[], T], finished: Callable[[T], bool], what: str,
             timeout_seconds: float, first_delay: float = 0.5, max_delay: float = 15.0,
             sleep: Callable[[float], None] = time.sleep) -> T:
    """Call ``poll`` until ``finished`` says so; delays double from first_delay to max_delay."""
    deadline = time.monotonic() + timeout_seconds
    delay = first_delay
    while True:
        state = poll()
        if finished(state):
            return state
        if time.monotonic() + delay > deadline:
            raise WaitTimeoutError(f"{what} did not finish within {timeout_seconds:.0f} s; "
                                   "it may still be running: check the AWS console")
        sleep(delay)
        delay = min(max_delay, delay * 2)
