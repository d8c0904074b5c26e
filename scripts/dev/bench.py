"""Benchmark the pipeline on Spark (the local Glue runtime) against the usual peer and DuckDB.

    python -m scripts.dev.bench [--scales 1,10,100] [--shapes default,fleet,small-files]
                                [--repeat 3] [--glue-versions 6.0,5.0]
                                [--out bench/results] [--data bench/data]

For each shape of data (SHAPES) and scale, clean data is generated once into
``<data>/scale-<S>[-<shape>]/`` (and reused while its generator parameters and code are
unchanged). Each engine then runs ``--repeat`` times, every run a
fresh process, so that Spark pays for its JVM as a user does: its wall time and the peak memory of
its whole process tree are measured. Per Glue version asked for there are two Spark engines, each
run by the python of that version's local environment: this project's pipeline, and the usual
peer (scripts/dev/peer_pipeline.py: five Spark SQL steps over spark.read.json, what a user would
run instead). All engines must find the same eight row counts; if they do not, the results say
so and the exit status is 1. Results: a table on the
terminal and ``<out>/results.md`` (with the growth from scale to scale, the targets of
bench/README.md met or missed, and each job's DPU-seconds on Glue), ``<out>/results.json``
(every run) and ``<out>/bench.png``. bench/README.md describes the method.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

from scripts._cli.errors import CliError, OneLineArgumentParser, fail
from scripts._cli.text_table import SECTION_BREAK, box_table
from scripts.lake import pipeline
from scripts.local_glue.glue_versions import DEFAULT_GLUE_VERSION, GLUE_VERSIONS, glue_runtime
from scripts.sample_data import generator

REPO_ROOT = Path(__file__).resolve().parents[2]
GENERATOR_SOURCE = Path(generator.__file__)
SEED = 42
FILES_PER_SOURCE = 4
DATA_MARKER = "_bench_data.json"
SAMPLE_SECONDS = 0.1
DUCKDB = "duckdb"
PEER_PREFIX = "peer-"
SPARK_PREFIX = "spark-"
THROUGHPUT_TABLE = "accelerometer_landing"
COUNTS_MISMATCH = 1
# Spark 4.1 (the default environment) beside Spark 3.5.4, the Spark of Glue 5.0.
DEFAULT_BENCH_VERSIONS = (DEFAULT_GLUE_VERSION, "5.0")

# The shapes of data a lake takes, as generator arguments. A fleet samples on one clock: the
# 1,000 clocks of scale 1, so that at scale S about S devices read at every instant (as copies
# of the Udacity data with their own people would). A streaming delivery writes thousands of
# small objects per source, whatever the volume.
SHAPES = {
    "default": {},
    "fleet": {"fleet_clocks": generator.PEOPLE_PER_SCALE},
    "small-files": {"files_per_source": 2000},
}
SHAPE_DESCRIPTIONS = {
    "default": f"{FILES_PER_SOURCE} files per source, every device on a clock of its own",
    "fleet": f"devices on {generator.PEOPLE_PER_SCALE:,} shared clocks: at scale S about S "
             "devices read at every instant",
    "small-files": f"{SHAPES['small-files']['files_per_source']:,} files per source",
}
# The targets of issue #21 (bench/README.md): the pipeline no slower than the usual peer, time
# growing no faster than the data (x11 for x10 data) and the process tree within 3 GB.
TARGET_PEER_RATIO = 1.0
TARGET_GROWTH_PER_10X = 11.0
TARGET_PEAK_MB = 3 * 1024
# Glue's default sizing in deploy: 2 G.1X workers, 1 DPU each, billed per second with a
# one-minute minimum per job run.
GLUE_DPUS_PER_JOB = 2
GLUE_MINIMUM_BILLED_S = 60

# The DuckDB engine as a process of its own, like Spark's: interpreter start and imports count.
DUCKDB_CHILD_CODE = ("import json, sys; from scripts.reference.zones_duckdb import zone_counts; "
                     "print(json.dumps(zone_counts(sys.argv[1])))")

HEADERS = ("shape", "scale", "accelerometer rows", "engine", "median s", "min s", "runs",
           "rows/s", "peak MB", "/ peer", "/ DuckDB", "counts agree")
NUMERIC_COLUMNS = frozenset({1, 2, 4, 5, 6, 7, 8, 9, 10})


# --- The process tree and its memory, from /proc -------------------------------------------------

def parse_children(text: str) -> list[int]:
    """The pids in a ``/proc/<pid>/task/<tid>/children`` file (space-separated)."""
    return [int(pid) for pid in text.split()]


def parse_rss_kb(status: str) -> int:
    """VmRSS of a ``/proc/<pid>/status`` text in kB; 0 for a zombie, which has no VmRSS line."""
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def read_proc(path: Path) -> str:
    """A /proc file's text, or '' when its process has ended meanwhile (a race, not an error)."""
    try:
        return path.read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return ""


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants. Children are listed per thread, and the JVM that
    pyspark starts may be the child of any thread, so every task's list is read."""
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        tasks = Path(f"/proc/{pid}/task")
        for children in (tasks.glob("*/children") if tasks.is_dir() else ()):
            pending += parse_children(read_proc(children))
    return tree


def tree_rss_kb(root: int) -> int:
    """Resident memory of a whole process tree now, in kB."""
    return sum(parse_rss_kb(read_proc(Path(f"/proc/{pid}/status"))) for pid in process_tree(root))


class TreeMemorySampler:
    """Samples a process tree's RSS every SAMPLE_SECONDS in a thread and keeps the peak.

    Sampling can miss a peak shorter than the interval; for runs of seconds that error is small,
    and no kernel counter gives the peak of a *sum* over processes.
    """

    def __init__(self, root: int, interval: float = SAMPLE_SECONDS) -> None:
        self.root = root
        self.interval = interval
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while True:
            self.peak_kb = max(self.peak_kb, tree_rss_kb(self.root))
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> TreeMemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()


# --- Data ----------------------------------------------------------------------------------------

def generator_arguments(shape: str) -> dict:
    """The generator's arguments for a shape of data: the bench's seed and file count, and the
    shape's own."""
    return {"seed": SEED, "files_per_source": FILES_PER_SOURCE, "dirty": False,
            "fleet_clocks": 0, **SHAPES[shape]}


def data_parameters(scale: float, shape: str = "default") -> dict:
    """What the cached data depends on: the generator's parameters and its code (others change
    the generator; data from an older version would make results incomparable)."""
    return {"scale": scale, **generator_arguments(shape),
            "generator_sha256": hashlib.sha256(GENERATOR_SOURCE.read_bytes()).hexdigest()}


def scale_folder(data_root: Path, scale: float, shape: str = "default") -> Path:
    return data_root / (f"scale-{scale:g}" if shape == "default" else f"scale-{scale:g}-{shape}")


def ensure_data(data_root: Path, scale: float, shape: str = "default") -> tuple[Path, bool]:
    """(the lake of ``scale`` in ``shape``, whether it was reused). The marker is written last,
    so an interrupted generation is never mistaken for finished data."""
    lake = scale_folder(data_root, scale, shape)
    marker = lake / DATA_MARKER
    parameters = data_parameters(scale, shape)
    if marker.is_file() and json.loads(marker.read_text()) == parameters:
        return lake, True
    if lake.exists():
        shutil.rmtree(lake)
    generator.generate(lake, scale, overwrite=True, **generator_arguments(shape))
    marker.write_text(json.dumps(parameters, indent=2) + "\n")
    return lake, False


# --- Running the engines -------------------------------------------------------------------------

@dataclass(frozen=True)
class Run:
    """One fresh-process run of an engine on one lake."""

    seconds: float
    peak_mb: float
    counts: dict[str, int]
    # The pipeline's own seconds per job (its run report); empty for the other engines.
    job_seconds: dict[str, float] = field(default_factory=dict)


def last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def spark_engine(glue_version: str) -> str:
    """This project's pipeline on the Spark of a Glue version."""
    return f"{SPARK_PREFIX}{glue_version}"


def peer_engine(glue_version: str) -> str:
    """The usual peer on the same Spark."""
    return f"{PEER_PREFIX}{glue_version}"


def engine_version(engine: str) -> str:
    """The Glue version of a Spark engine ('spark-6.0' and 'peer-6.0' -> '6.0')."""
    return engine.removeprefix(SPARK_PREFIX).removeprefix(PEER_PREFIX)


def is_project(engine: str) -> bool:
    return engine.startswith(SPARK_PREFIX)


def engine_label(engine: str) -> str:
    """'Spark 4.1.1 (Glue 6.0)', 'usual peer, Spark 4.1.1' or 'DuckDB'."""
    if engine == DUCKDB:
        return "DuckDB"
    runtime = glue_runtime(engine_version(engine))
    if is_project(engine):
        return f"Spark {runtime.spark} (Glue {runtime.version})"
    return f"usual peer, Spark {runtime.spark}"


def engines_for(glue_versions: list[str]) -> list[str]:
    """Per Glue version the project and its peer, side by side; DuckDB last."""
    return [engine for version in glue_versions
            for engine in (spark_engine(version), peer_engine(version))] + [DUCKDB]


def environment_python(glue_version: str) -> Path:
    """The python of a Glue version's local environment (made by make setup GLUE_VERSION=)."""
    folder = ".venv" if glue_version == DEFAULT_GLUE_VERSION else f".venv-glue-{glue_version}"
    return REPO_ROOT / folder / "bin" / "python"


def measure(engine: str, command: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak MB of the process tree, stdout) of one child process.

    The clock stops when the child's output pipes close, i.e. when the JVM that inherited them
    has exited too: a user waits for that as well. CliError carries the child's last error line.
    """
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    with TreeMemorySampler(child.pid) as sampler:
        stdout, stderr = child.communicate()
    seconds = time.perf_counter() - started
    if child.returncode != 0:
        raise CliError(f"a {engine_label(engine)} run failed with exit status "
                       f"{child.returncode}: {last_line(stderr)}")
    return seconds, sampler.peak_kb / 1024, stdout


def existing_environment_python(glue_version: str) -> Path:
    python = environment_python(glue_version)
    if not python.is_file():
        raise CliError(f"no Glue {glue_version} environment: run `make setup "
                       f"GLUE_VERSION={glue_version}` first")
    return python


def run_spark(lake: Path, glue_version: str) -> Run:
    """The unchanged Glue jobs through run_local in that Glue version's environment; the counts
    come from its run report."""
    python = existing_environment_python(glue_version)
    with tempfile.TemporaryDirectory(prefix="bench-spark-") as folder:
        report = Path(folder) / "report.json"
        seconds, peak_mb, _ = measure(spark_engine(glue_version), [
            str(python), "-m", "scripts.run_local", "--lake", str(lake),
            "--report-json", str(report)])
        written = json.loads(report.read_text())
    return Run(seconds, peak_mb, written["tables"], written["seconds"])


def run_peer(lake: Path, glue_version: str) -> Run:
    """The usual peer in the same environment; it writes its zones to a temporary folder and
    prints the counts."""
    python = existing_environment_python(glue_version)
    with tempfile.TemporaryDirectory(prefix="bench-peer-") as folder:
        seconds, peak_mb, stdout = measure(peer_engine(glue_version), [
            str(python), "-m", "scripts.dev.peer_pipeline", str(lake), folder])
    return Run(seconds, peak_mb, json.loads(last_line(stdout)))


def run_duckdb(lake: Path) -> Run:
    seconds, peak_mb, stdout = measure(DUCKDB, [sys.executable, "-c", DUCKDB_CHILD_CODE,
                                                str(lake)])
    return Run(seconds, peak_mb, json.loads(stdout))


def run_engine(engine: str, lake: Path) -> Run:
    if engine == DUCKDB:
        return run_duckdb(lake)
    runner = run_spark if is_project(engine) else run_peer
    return runner(lake, engine_version(engine))


def bench_scale(lake: Path, scale: float, repeat: int, engines: list[str],
                shape: str = "default") -> dict[str, list[Run]]:
    """``repeat`` runs of each engine, interleaved so that a drift of the machine (heat, other
    load) affects all engines alike."""
    runs: dict[str, list[Run]] = {engine: [] for engine in engines}
    for number in range(1, repeat + 1):
        for engine in engines:
            run = run_engine(engine, lake)
            runs[engine].append(run)
            print(f"  {shape} scale {scale:g} {engine_label(engine)} run {number}/{repeat}: "
                  f"{run.seconds:.2f} s, peak {run.peak_mb:,.0f} MB", flush=True)
    return runs


# --- Summaries (pure) ----------------------------------------------------------------------------

def counts_agree(runs: dict[str, list[Run]]) -> bool:
    """Every run of every engine found the same row count for every table."""
    distinct = {tuple(sorted(run.counts.items())) for engine_runs in runs.values()
                for run in engine_runs}
    return len(distinct) == 1


def count_differences(runs: dict[str, list[Run]]) -> list[str]:
    """'table: <engine> n, DuckDB m' for each engine and table whose first run's count differs
    from DuckDB's, in pipeline order."""
    duckdb = runs[DUCKDB][0].counts
    return [f"{t.name}: {engine_label(engine)} {engine_runs[0].counts.get(t.name)}, "
            f"DuckDB {duckdb.get(t.name)}"
            for engine, engine_runs in runs.items() if engine != DUCKDB
            for t in pipeline.TABLES if engine_runs[0].counts.get(t.name) != duckdb.get(t.name)]


def disagreement(result: dict) -> str:
    """What differs at a scale whose counts do not agree, for the user to start from."""
    return "; ".join(result["differences"]) or "between runs of one engine"


def engine_summary(runs: list[Run]) -> dict:
    """Median and minimum time, peak memory and throughput over an engine's runs.

    The median, because one slow run (a cold page cache, a stray process) should not move it;
    the peak memory is the largest of the runs, because that is what the machine must have.
    """
    seconds = [run.seconds for run in runs]
    median = statistics.median(seconds)
    rows = runs[0].counts[THROUGHPUT_TABLE]
    return {"median_s": median, "min_s": min(seconds), "runs": len(runs),
            "accelerometer_rows": rows, "rows_per_s": rows / median,
            "peak_mb": max(run.peak_mb for run in runs)}


def peer_ratios(summaries: dict[str, dict]) -> dict[str, float]:
    """Each project engine's median over the median of the peer on the same Spark."""
    return {engine: summary["median_s"] / summaries[peer_engine(engine_version(engine))]["median_s"]
            for engine, summary in summaries.items()
            if is_project(engine) and peer_engine(engine_version(engine)) in summaries}


def scale_result(scale: float, lake: Path, runs: dict[str, list[Run]],
                 shape: str = "default") -> dict:
    """The JSON record of one shape and scale: every run, the summaries, each project engine's
    median over its peer's, each engine's median over DuckDB's, and whether the counts agree."""
    summaries = {engine: engine_summary(engine_runs) for engine, engine_runs in runs.items()}
    return {"shape": shape, "scale": scale, "data": str(lake),
            "counts_agree": counts_agree(runs),
            "peer_ratios": peer_ratios(summaries),
            "duckdb_ratios": {engine: summary["median_s"] / summaries[DUCKDB]["median_s"]
                              for engine, summary in summaries.items() if engine != DUCKDB},
            "differences": count_differences(runs),
            "engines": {engine: {"label": engine_label(engine), "summary": summaries[engine],
                                 "runs": [asdict(run) for run in runs[engine]]}
                        for engine in runs}}


def by_shape(scales: list[dict]) -> dict[str, list[dict]]:
    """The scale records of each shape, in the order of the scales."""
    shapes: dict[str, list[dict]] = {}
    for result in scales:
        shapes.setdefault(result.get("shape", "default"), []).append(result)
    return {shape: sorted(results, key=lambda r: r["scale"]) for shape, results in shapes.items()}


def growth(scales: list[dict]) -> list[dict]:
    """Per shape, engine and pair of consecutive scales: how much the median time grew against
    how much the data (accelerometer rows) grew. Linear growth keeps the time factor near the
    data factor; the target allows 1.1 times it (x11 for x10 data)."""
    rows = []
    for shape, results in by_shape(scales).items():
        for smaller, larger in zip(results, results[1:]):
            for engine, record in larger["engines"].items():
                before = smaller["engines"][engine]["summary"]
                after = record["summary"]
                rows.append({"shape": shape, "from": smaller["scale"], "to": larger["scale"],
                             "engine": engine, "label": record["label"],
                             "time_factor": after["median_s"] / before["median_s"],
                             "data_factor": (after["accelerometer_rows"]
                                             / before["accelerometer_rows"])})
    return rows


def targets(scales: list[dict]) -> list[dict]:
    """Each target of bench/README.md for each project engine: what it asks, what was
    measured, met or not."""
    checks = []
    for result in scales:
        where = f"{result.get('shape', 'default')} scale {result['scale']:g}"
        for engine, ratio in result.get("peer_ratios", {}).items():
            checks.append({"target": f"pipeline / peer <= {TARGET_PEER_RATIO:g}x",
                           "where": f"{where}, {engine_label(engine)}",
                           "measured": f"{ratio:.2f}x", "met": ratio <= TARGET_PEER_RATIO})
        for engine, record in result["engines"].items():
            if is_project(engine):
                peak = record["summary"]["peak_mb"]
                checks.append({"target": f"peak memory <= {TARGET_PEAK_MB:,} MB",
                               "where": f"{where}, {record['label']}",
                               "measured": f"{peak:,.0f} MB", "met": peak <= TARGET_PEAK_MB})
    allowed = TARGET_GROWTH_PER_10X / 10
    for step in growth(scales):
        if is_project(step["engine"]):
            checks.append({"target": f"time grows <= {allowed:g} x data",
                           "where": f"{step['shape']} scale {step['from']:g} -> {step['to']:g}, "
                                    f"{step['label']}",
                           "measured": f"x{step['time_factor']:.1f} for "
                                       f"x{step['data_factor']:.1f} data",
                           "met": step["time_factor"] <= allowed * step["data_factor"]})
    return checks


def billed_dpu_seconds(job_seconds: float) -> float:
    """DPU-seconds Glue bills for one job run of that many seconds on deploy's default sizing."""
    return GLUE_DPUS_PER_JOB * max(GLUE_MINIMUM_BILLED_S, job_seconds)


def glue_costs(scales: list[dict]) -> list[dict]:
    """Per shape, scale, project engine and job: the job's median seconds in the local runs
    and the DPU-seconds and dollars Glue would bill for a run that long."""
    rows = []
    for result in scales:
        for engine, record in result["engines"].items():
            job_runs = [run["job_seconds"] for run in record["runs"] if run.get("job_seconds")]
            if not (is_project(engine) and job_runs):
                continue
            price = glue_runtime(engine_version(engine)).price_per_dpu_hour
            for job in job_runs[0]:
                seconds = statistics.median(run[job] for run in job_runs)
                dpu_seconds = billed_dpu_seconds(seconds)
                rows.append({"shape": result.get("shape", "default"), "scale": result["scale"],
                             "engine": engine, "label": record["label"], "job": job,
                             "local_s": seconds, "dpu_s": dpu_seconds,
                             "dollars": None if price is None else dpu_seconds / 3600 * price})
    return rows


def table_rows(scales: list[dict]) -> list[tuple[str, ...] | None]:
    """Formatted cells under HEADERS, one row per scale and engine, a rule between scales."""
    rows: list[tuple[str, ...] | None] = []
    for result in scales:
        if rows:
            rows.append(SECTION_BREAK)
        for engine, record in result["engines"].items():
            summary = record["summary"]
            to_peer = result.get("peer_ratios", {}).get(engine)
            to_duckdb = result["duckdb_ratios"].get(engine)
            rows.append((result.get("shape", "default"), f"{result['scale']:g}",
                         f"{summary['accelerometer_rows']:,}",
                         record["label"], f"{summary['median_s']:.2f}",
                         f"{summary['min_s']:.2f}", str(summary["runs"]),
                         f"{summary['rows_per_s']:,.0f}", f"{summary['peak_mb']:,.0f}",
                         "" if to_peer is None else f"{to_peer:.2f}x",
                         "" if to_duckdb is None else f"{to_duckdb:.1f}x",
                         "yes" if result["counts_agree"] else "NO"))
    return rows


# --- The machine ---------------------------------------------------------------------------------

def cpu_model(cpuinfo: str) -> str:
    """The first 'model name' of /proc/cpuinfo ('unknown' where there is none, e.g. on ARM)."""
    for line in cpuinfo.splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def memory_gb(meminfo: str) -> float:
    """MemTotal of /proc/meminfo in GB."""
    for line in meminfo.splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 ** 2
    raise ValueError("no MemTotal line in /proc/meminfo")


def machine() -> dict:
    return {"cpu": cpu_model(read_proc(Path("/proc/cpuinfo"))), "cores": os.cpu_count(),
            "ram_gb": round(memory_gb(read_proc(Path("/proc/meminfo"))), 1),
            "python": platform.python_version(), "duckdb": metadata.version("duckdb"),
            # The machine may be shared; a busy one explains slow, noisy timings.
            "load_average_at_start": round(os.getloadavg()[0], 2),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def machine_line(info: dict) -> str:
    return (f"{info['cpu']}, {info['cores']} cores, {info['ram_gb']:g} GB RAM; "
            f"DuckDB {info['duckdb']} on Python {info['python']}; "
            f"load average {info['load_average_at_start']:g} at start; {info['date']}")


# --- Rendering -----------------------------------------------------------------------------------

def money(dollars: float | None) -> str:
    """'$0.0147', or 'n/a' where the Glue version has no known price."""
    return "n/a" if dollars is None else f"${dollars:.4f}"


def render_markdown(results: dict) -> str:
    """results.md: the machine, the method in one sentence, the table, the growth, the targets,
    the Glue cost per job, and any disagreement."""
    rows = [row for row in table_rows(results["scales"]) if row is not SECTION_BREAK]
    align = ["---:" if i in NUMERIC_COLUMNS else "---" for i in range(len(HEADERS))]
    shapes = by_shape(results["scales"])
    lines = ["# Benchmark: the pipeline (local Glue runtime, per Glue version) vs the usual peer "
             "and DuckDB", "",
             f"Machine: {machine_line(results['machine'])}", "",
             f"Each run is a fresh process (Spark's includes JVM start); {results['repeat']} "
             f"run(s) per engine, shape and scale; peak MB is the resident memory of the whole "
             f"process tree; rows/s counts {THROUGHPUT_TABLE} rows per median second; / peer is "
             "the pipeline's median over the usual peer's on the same Spark. "
             "Method: bench/README.md.", "",
             "Shapes: " + "; ".join(f"**{shape}**: {SHAPE_DESCRIPTIONS.get(shape, shape)}"
                                     for shape in shapes) + ".", "",
             "| " + " | ".join(HEADERS) + " |", "| " + " | ".join(align) + " |",
             *("| " + " | ".join(row) + " |" for row in rows)]
    steps = growth(results["scales"])
    if steps:
        lines += ["", "## Growth from scale to scale (median time factor for the data factor)",
                  "", "| shape | scales | engine | time factor | data factor |",
                  "| --- | --- | --- | ---: | ---: |",
                  *(f"| {s['shape']} | {s['from']:g} -> {s['to']:g} | {s['label']} | "
                    f"x{s['time_factor']:.1f} | x{s['data_factor']:.1f} |" for s in steps)]
    checks = targets(results["scales"])
    if checks:
        met = sum(check["met"] for check in checks)
        lines += ["", f"## Targets ({met} of {len(checks)} met)", "",
                  "| target | where | measured | met |", "| --- | --- | --- | --- |",
                  *(f"| {c['target']} | {c['where']} | {c['measured']} | "
                    f"{'yes' if c['met'] else '**no**'} |" for c in checks)]
    costs = glue_costs(results["scales"])
    if costs:
        lines += ["", "## Each job on Glue: DPU-seconds of a run as long as the local one",
                  "", f"{GLUE_DPUS_PER_JOB} G.1X workers ({GLUE_DPUS_PER_JOB} DPU), billed per "
                  f"second with a {GLUE_MINIMUM_BILLED_S}-second minimum; the job's local "
                  "seconds stand in for its time on Glue (2 local cores, where Glue's 2 workers "
                  "give 4 executor cores; Glue's start-up is not in them).", "",
                  "| shape | scale | engine | job | local s | DPU-s billed | $ per run |",
                  "| --- | ---: | --- | --- | ---: | ---: | ---: |",
                  *(f"| {c['shape']} | {c['scale']:g} | {c['label']} | {c['job']} | "
                    f"{c['local_s']:.1f} | {c['dpu_s']:.0f} | "
                    f"{money(c['dollars'])} |"
                    for c in costs)]
    for result in results["scales"]:
        if not result["counts_agree"]:
            lines += ["", f"**Row counts differ at {result.get('shape', 'default')} scale "
                      f"{result['scale']:g}:** {disagreement(result)}"]
    return "\n".join(lines) + "\n"


def draw_chart(results: dict, out: Path) -> None:
    """Median time against scale for every engine on log-log axes, one panel per shape; each
    project engine's points are labelled with its ratio to the peer on the same Spark. The peers
    are dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shapes = by_shape(results["scales"])
    figure, panels = plt.subplots(1, len(shapes), figsize=(6.5 * len(shapes), 5.5), dpi=100,
                                  sharey=True, squeeze=False)
    for axes, (shape, shape_results) in zip(panels[0], shapes.items(), strict=True):
        draw_shape(axes, shape, shape_results)
    panels[0][0].set_ylabel("median wall time of a fresh process (s)")
    panels[0][0].legend(fontsize=8)
    figure.suptitle("STEDI pipeline (local Glue runtime) vs the usual peer and DuckDB; "
                    "labels: pipeline time / peer time on the same Spark", fontsize=10)
    figure.text(0.01, 0.01, machine_line(results["machine"]), fontsize=7, color="#555555")
    figure.tight_layout(rect=(0, 0.03, 1, 1))
    figure.savefig(out)
    plt.close(figure)


def draw_shape(axes, shape: str, shape_results: list[dict]) -> None:
    """One shape's panel of the chart."""
    scales = [result["scale"] for result in shape_results]
    engines = list(shape_results[0]["engines"])
    for engine, marker in zip(engines, "o^vsDP", strict=False):
        medians = [result["engines"][engine]["summary"]["median_s"] for result in shape_results]
        axes.plot(scales, medians, marker=marker,
                  linestyle="-" if is_project(engine) or engine == DUCKDB else "--",
                  label=shape_results[0]["engines"][engine]["label"])
    # Labels above, below, then beside their points, so that close lines keep them apart.
    offsets = ((0, 8), (0, -16), (-24, -4), (24, -4))
    for result in shape_results:
        for (engine, ratio), offset in zip(result.get("peer_ratios", {}).items(), offsets,
                                           strict=False):
            axes.annotate(f"{ratio:.2f}x",
                          (result["scale"], result["engines"][engine]["summary"]["median_s"]),
                          textcoords="offset points", xytext=offset, ha="center", fontsize=8)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xticks(scales, labels=[
        f"{result['scale']:g}\n{result['engines'][DUCKDB]['summary']['accelerometer_rows']:,}"
        for result in shape_results])
    axes.minorticks_off()
    axes.margins(0.12)  # room for the ratio labels above the top points
    axes.set_xlabel(f"scale (1 = {generator.PEOPLE_PER_SCALE:,} customers) "
                    "and accelerometer rows")
    axes.set_title(f"{shape}: {SHAPE_DESCRIPTIONS.get(shape, shape)}", fontsize=9)
    axes.grid(True, which="major", alpha=0.3)


def write_results(results: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "results.md").write_text(render_markdown(results))
    draw_chart(results, out / "bench.png")


# --- Command line --------------------------------------------------------------------------------

def parse_scales(text: str) -> list[float]:
    """'1,10,100' -> [1.0, 10.0, 100.0], sorted and without repeats; argparse reports errors."""

    scales = []
    for part in text.split(","):
        try:
            scale = float(part)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{part.strip()!r} is not a number") from None
        if not (math.isfinite(scale) and scale >= generator.MIN_SCALE):
            raise argparse.ArgumentTypeError(f"scale {part.strip()} must be a finite number of "
                                             f"at least {generator.MIN_SCALE}")
        scales.append(scale)
    return sorted(set(scales))


def known_names(text: str, known, what: str) -> list[str]:
    """'a,b' -> ['a', 'b'], in the order given and without repeats; argparse reports a name not
    in ``known`` (or none at all) as an unknown ``what``."""
    names = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown {what} {', '.join(unknown) or '(none)'}; "
                                         f"choose from {', '.join(known)}")
    return names


def glue_versions(text: str) -> list[str]:
    """'6.0,5.0' -> ['6.0', '5.0']: the Glue versions to run the Spark engines of."""
    return known_names(text, GLUE_VERSIONS, "Glue version")


def shape_names(text: str) -> list[str]:
    """'default,fleet' -> ['default', 'fleet']: the shapes of data to run on."""
    return known_names(text, SHAPES, "shape")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = OneLineArgumentParser(prog="bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", type=parse_scales, default="1,10,100",
                        help="comma-separated data scales (default 1,10,100)")
    parser.add_argument("--shapes", type=shape_names, default=",".join(SHAPES),
                        help=f"comma-separated shapes of data (default {','.join(SHAPES)})")
    parser.add_argument("--repeat", type=positive_int, default=3,
                        help="fresh-process runs per engine and scale (default 3)")
    parser.add_argument("--glue-versions", type=glue_versions,
                        default=",".join(DEFAULT_BENCH_VERSIONS),
                        help="Sparks to run the pipeline and the usual peer on, by Glue "
                             "version, each in its own local environment (default "
                             f"{','.join(DEFAULT_BENCH_VERSIONS)})")
    parser.add_argument("--out", type=Path, default=Path("bench/results"),
                        help="where results.md, results.json and bench.png go")
    parser.add_argument("--data", type=Path, default=Path("bench/data"),
                        help="where the generated data of each scale is kept for reuse")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(sys.argv[1:] if argv is None else argv)
    data_root = args.data.resolve()
    # Before the runs: the load average must describe the machine as the benchmark found it.
    host = machine()
    scales = []
    try:
        for shape in args.shapes:
            for scale in args.scales:
                started = time.perf_counter()
                lake, reused = ensure_data(data_root, scale, shape)
                how = ("reused" if reused
                       else f"generated in {time.perf_counter() - started:.1f} s")
                print(f"{shape} scale {scale:g}: data {lake} ({how})", flush=True)
                runs = bench_scale(lake, scale, args.repeat, engines_for(args.glue_versions),
                                   shape)
                scales.append(scale_result(scale, lake, runs, shape))
    except CliError as error:
        fail(f"bench: {error}")
    results = {"machine": host, "repeat": args.repeat, "seed": SEED,
               "shapes": {shape: generator_arguments(shape) for shape in args.shapes},
               "scales": scales}
    write_results(results, args.out)
    print(box_table(HEADERS, table_rows(scales), right_aligned=NUMERIC_COLUMNS))
    checks = targets(scales)
    print(f"targets: {sum(c['met'] for c in checks)} of {len(checks)} met" +
          "".join(f"\n  missed: {c['target']} at {c['where']}: {c['measured']}"
                  for c in checks if not c["met"]))
    print(f"results: {args.out / 'results.md'}, {args.out / 'results.json'}, "
          f"{args.out / 'bench.png'}")
    disagreeing = [result for result in scales if not result["counts_agree"]]
    for result in disagreeing:
        print(f"error: the engines' row counts differ at {result['shape']} scale "
              f"{result['scale']:g}: "
              f"{disagreement(result)}", file=sys.stderr)
    return COUNTS_MISMATCH if disagreeing else 0


if __name__ == "__main__":
    sys.exit(main())
