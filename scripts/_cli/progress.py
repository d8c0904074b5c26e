"""Live progress of a Spark job on the terminal: elapsed time and the tasks of running stages.

On a terminal one status line is redrawn in place twice a second; in a log (not a TTY) only the
start and end lines are printed, so CI output stays short.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

from pyspark import SparkContext

REDRAW_SECONDS = 0.5


def task_summary(spark_context: SparkContext) -> str:
    """'stage 12: 3/8 tasks' for the running stages, or '' when none runs."""
    tracker = spark_context.statusTracker()
    parts = []
    for stage_id in sorted(tracker.getActiveStageIds()):
        info = tracker.getStageInfo(stage_id)
        if info is not None:
            parts.append(f"stage {stage_id}: {info.numCompletedTasks}/{info.numTasks} tasks")
    return ", ".join(parts)


class JobProgress:
    """Context manager that shows ``[2/5] accelerometer_landing_to_trusted ...`` while it runs."""

    def __init__(self, label: str, spark_context: SparkContext, stream: TextIO = sys.stdout):
        self.label = label
        self.spark_context = spark_context
        self.stream = stream
        self.live = stream.isatty()
        self.started = 0.0
        self.seconds = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> JobProgress:
        self.started = time.perf_counter()
        if self.live:
            self._thread = threading.Thread(target=self._redraw, daemon=True)
            self._thread.start()
        else:
            print(f"  {self.label} ...", file=self.stream, flush=True)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.seconds = time.perf_counter() - self.started
        self._stop.set()
        if self._thread:
            self._thread.join()
            self.stream.write("\r\033[K")
        mark = "ok" if exc_type is None else "FAILED"
        print(f"  {self.label} {mark} in {self.seconds:.1f}s", file=self.stream, flush=True)

    def _redraw(self) -> None:
        while not self._stop.wait(REDRAW_SECONDS):
            elapsed = time.perf_counter() - self.started
            tasks = task_summary(self.spark_context)
            line = f"  {self.label} {elapsed:5.1f}s {tasks}"
            self.stream.write("\r\033[K" + line[:200])
            self.stream.flush()
