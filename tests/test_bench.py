"""Smoke test of the benchmark tool: it runs end to end and writes what it promises.

Benchmarks are not tests; this only checks, on the smallest data, that the three engines (the
pipeline, the usual peer, DuckDB) run as fresh processes, agree on the row counts, and that the
three result files come out. Its time is two Spark runs (JVM start and five steps each).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from awsglue._local_versions import current_runtime
from scripts import pipeline

REPO = Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The Spark engine of this environment's Glue version: the others may not be set up here.
GLUE_VERSION = current_runtime().version
SPARK = f"spark-{GLUE_VERSION}"
PEER = f"peer-{GLUE_VERSION}"
# More than a Python process alone takes: the tree's peak must include pyspark's JVM.
SPARK_TREE_MIN_MB = 300


def run_bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scripts.dev.bench", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path]:
    out = tmp_path_factory.mktemp("bench")
    return run_bench("--scales", "0.02", "--repeat", "1", "--glue-versions", GLUE_VERSION,
                     "--out", str(out), "--data", str(out / "data")), out


def test_bench_succeeds_and_writes_the_report_and_chart(bench_run):
    completed, out = bench_run
    assert completed.returncode == 0, completed.stderr
    assert "| 0.02 |" in (out / "results.md").read_text()
    assert (out / "bench.png").read_bytes().startswith(PNG_SIGNATURE)


def test_all_engines_count_the_same_rows_of_every_table(bench_run):
    _, out = bench_run
    [scale] = json.loads((out / "results.json").read_text())["scales"]
    spark_runs, peer_runs, duckdb_runs = (scale["engines"][engine]["runs"]
                                          for engine in (SPARK, PEER, "duckdb"))
    assert list(scale["engines"]) == [SPARK, PEER, "duckdb"]
    assert scale["scale"] == 0.02 and scale["counts_agree"] is True
    assert len(spark_runs) == len(peer_runs) == len(duckdb_runs) == 1
    assert list(spark_runs[0]["counts"]) == [t.name for t in pipeline.TABLES]
    assert spark_runs[0]["counts"] == peer_runs[0]["counts"] == duckdb_runs[0]["counts"]
    assert spark_runs[0]["counts"]["accelerometer_landing"] > 0


def test_the_pipeline_is_compared_with_the_peer_on_the_same_spark(bench_run):
    _, out = bench_run
    [scale] = json.loads((out / "results.json").read_text())["scales"]
    medians = {engine: record["summary"]["median_s"] for engine, record in scale["engines"].items()}
    assert scale["peer_ratios"] == {SPARK: medians[SPARK] / medians[PEER]}
    assert "/ peer" in (out / "results.md").read_text()


def test_spark_peak_memory_includes_the_jvm(bench_run):
    _, out = bench_run
    [scale] = json.loads((out / "results.json").read_text())["scales"]
    assert scale["engines"][SPARK]["runs"][0]["peak_mb"] > SPARK_TREE_MIN_MB


@pytest.mark.parametrize("arguments", [("--scales", "0,x"), ("--repeat", "0"),
                                       ("--glue-versions", "4.0")])
def test_a_cli_mistake_is_one_line_and_exit_status_2(arguments):
    completed = run_bench(*arguments)
    assert completed.returncode == 2
    assert completed.stderr.startswith("error: bench: argument")
    assert len(completed.stderr.splitlines()) == 1
    assert completed.stdout == ""
