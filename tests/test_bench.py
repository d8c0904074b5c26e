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

from scripts.dev import bench
from scripts.lake import pipeline
from scripts.sample_data.generator import generate

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
    return run_bench("--scales", "0.02", "--shapes", "default", "--repeat", "1",
                     "--glue-versions", GLUE_VERSION, "--out", str(out),
                     "--data", str(out / "data")), out


def test_bench_succeeds_and_writes_the_report_and_chart(bench_run):
    completed, out = bench_run
    assert completed.returncode == 0, completed.stderr
    assert "| default | 0.02 |" in (out / "results.md").read_text()
    lake = out / "data" / "scale-0.02"
    landing_files = list((lake / "customer" / "landing").glob("*.json"))
    assert len(landing_files) == bench.generator_arguments("default")["files_per_source"]
    assert (out / "bench.png").read_bytes().startswith(PNG_SIGNATURE)


def test_the_small_files_shape_writes_one_object_per_record_where_records_are_fewer(tmp_path):
    """The shape's data without running the engines on it: Spark's listing of thousands of
    objects would double this file's time, and the engines read any shape the same way."""
    arguments = bench.generator_arguments("small-files")
    records = generate(tmp_path, scale=0.02, **arguments)
    for source in pipeline.SOURCES:
        files = list((tmp_path / source / "landing").glob("*.json"))
        assert len(files) == min(records[source], arguments["files_per_source"])


def test_all_engines_count_the_same_rows_of_every_table(bench_run):
    _, out = bench_run
    [scale] = json.loads((out / "results.json").read_text())["scales"]
    spark_runs, peer_runs, duckdb_runs = (scale["engines"][engine]["runs"]
                                          for engine in (SPARK, PEER, "duckdb"))
    assert list(scale["engines"]) == [SPARK, PEER, "duckdb"]
    assert (scale["shape"], scale["scale"], scale["counts_agree"]) == ("default", 0.02, True)
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


def test_each_job_is_priced_by_its_own_seconds_on_glue(bench_run):
    _, out = bench_run
    [scale] = json.loads((out / "results.json").read_text())["scales"]
    job_seconds = scale["engines"][SPARK]["runs"][0]["job_seconds"]
    assert list(job_seconds) == [job.name for job in pipeline.JOBS]
    costs = bench.glue_costs([scale])
    assert [(c["job"], c["local_s"], c["dpu_s"]) for c in costs] == [
        (job, seconds, 2 * max(60, seconds)) for job, seconds in job_seconds.items()]
    assert "DPU-s billed" in (out / "results.md").read_text()


def summary(median_s: float, rows: int, peak_mb: float = 1000.0) -> dict:
    return {"summary": {"median_s": median_s, "accelerometer_rows": rows, "peak_mb": peak_mb},
            "label": "x"}


def test_growth_and_targets_are_judged_per_shape_and_scale_step():
    """The pure part of the report, on figures made up for it."""
    scales = [
        {"shape": "fleet", "scale": 10.0, "peer_ratios": {"spark-6.0": 0.9},
         "engines": {"spark-6.0": summary(20.0, 800), "peer-6.0": summary(22.0, 800)}},
        {"shape": "fleet", "scale": 100.0, "peer_ratios": {"spark-6.0": 1.2},
         "engines": {"spark-6.0": summary(230.0, 8000, peak_mb=3500.0),
                     "peer-6.0": summary(190.0, 8000)}},
        {"shape": "default", "scale": 10.0, "peer_ratios": {},
         "engines": {"spark-6.0": summary(20.0, 800)}},
    ]
    steps = bench.growth(scales)
    assert [(s["shape"], s["engine"], s["time_factor"], s["data_factor"]) for s in steps] == [
        ("fleet", "spark-6.0", 11.5, 10.0), ("fleet", "peer-6.0", 190.0 / 22.0, 10.0)]
    missed = [(c["target"], c["measured"]) for c in bench.targets(scales) if not c["met"]]
    assert missed == [("pipeline / peer <= 1x", "1.20x"), ("peak memory <= 3,072 MB", "3,500 MB"),
                      ("time grows <= 1.1 x data", "x11.5 for x10.0 data")]
    assert len(bench.targets(scales)) == 6


@pytest.mark.parametrize("arguments", [("--scales", "0,x"), ("--repeat", "0"),
                                       ("--glue-versions", "4.0"), ("--shapes", "huge")])
def test_a_cli_mistake_is_one_line_and_exit_status_2(arguments):
    completed = run_bench(*arguments)
    assert completed.returncode == 2
    assert completed.stderr.startswith("error: bench: argument")
    assert len(completed.stderr.splitlines()) == 1
    assert completed.stdout == ""
