"""Benchmark the pipeline on Spark (the local Glue runtime) against the usual peer and DuckDB.

    python -m scripts.dev.bench [--scales 1,10,100] [--repeat 3] [--glue-versions 6.0,5.0]
                                [--out bench/results] [--data bench/data]

For each scale, clean data is generated once into ``<data>/scale-<S>/`` (and reused while its
generator parameters and code are unchanged). Each engine then runs ``--repeat`` times, every run a
fresh process, so that Spark pays for its JVM as a user does: its wall time and the peak memory of
its whole process tree are measured. Per Glue version asked for there are two Spark engines, each
run by the python of that version's local environment: this project's pipeline, and the usual
peer (scripts/dev/peer_pipeline.py: five Spark SQL steps over spark.read.json, what a user would
run instead). All engines must find the same eight row counts; if they do not, the results say
so and the exit status is 1. Results: a table on the
terminal and ``<out>/results.md``, ``<out>/results.json`` (every run) and ``<out>/bench.png``.
bench/README.md describes the method.
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
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

from scripts import pipeline
from scripts.local_glue.glue_versions import DEFAULT_GLUE_VERSION, GLUE_VERSIONS, glue_runtime
from scripts.sample_data import generator
from scripts._cli.errors import CliError, OneLineArgumentParser, fail
from scripts._cli.text_table import SECTION_BREAK, box_table

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

# The DuckDB engine as a process of its own, like Spark's: interpreter start and imports count.
DUCKDB_CHILD_CODE = ("import json, sys; from scripts.reference.zones_duckdb import zone_counts; "
                     "print(json.dumps(zone_counts(sys.argv[1])))")

HEADERS = ("scale", "accelerometer rows", "engine", "median s", "min s", "runs", "rows/s",
           "peak MB", "/ peer", "/ DuckDB", "counts agree")
NUMERIC_COLUMNS = frozenset({0, 1, 3, 4, 5, 6, 7, 8, 9})


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

    def __enter__(self) -> "TreeMemorySampler":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()


# --- Data ----------------------------------------------------------------------------------------

def data_parameters(scale: float) -> dict:
    """What the cached data depends on: the generator's parameters and its code (others change
    the generator; data from an older version would make results incomparable)."""
    return {"scale": scale, "seed": SEED, "files_per_source": FILES_PER_SOURCE, "dirty": False,
            "generator_sha256": hashlib.sha256(GENERATOR_SOURCE.read_bytes()).hexdigest()}


def scale_folder(data_root: Path, scale: float) -> Path:
    return data_root / f"scale-{scale:g}"


def ensure_data(data_root: Path, scale: float) -> tuple[Path, bool]:
    """(the lake of ``scale``, whether it was reused). The marker is written last, so an
    interrupted generation is never mistaken for finished data."""
    lake = scale_folder(data_root, scale)
    marker = lake / DATA_MARKER
    parameters = data_parameters(scale)
    if marker.is_file() and json.loads(marker.read_text()) == parameters:
        return lake, True
    if lake.exists():
        shutil.rmtree(lake)
    generator.generate(lake, scale, SEED, FILES_PER_SOURCE, overwrite=True, dirty=False)
    marker.write_text(json.dumps(parameters, indent=2) + "\n")
    return lake, False


# --- Running the engines -------------------------------------------------------------------------

@dataclass(frozen=True)
class Run:
    """One fresh-process run of an engine on one lake."""

    seconds: float
    peak_mb: float
    counts: dict[str, int]


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
        counts = json.loads(report.read_text())["tables"]
    return Run(seconds, peak_mb, counts)


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


def bench_scale(lake: Path, scale: float, repeat: int, engines: list[str]) -> dict[str, list[Run]]:
    """``repeat`` runs of each engine, interleaved so that a drift of the machine (heat, other
    load) affects all engines alike."""
    runs: dict[str, list[Run]] = {engine: [] for engine in engines}
    for number in range(1, repeat + 1):
        for engine in engines:
            run = run_engine(engine, lake)
            runs[engine].append(run)
            print(f"  scale {scale:g} {engine_label(engine)} run {number}/{repeat}: "
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


def scale_result(scale: float, lake: Path, runs: dict[str, list[Run]]) -> dict:
    """The JSON record of one scale: every run, the summaries, each project engine's median
    over its peer's, each engine's median over DuckDB's, and whether the counts agree."""
    summaries = {engine: engine_summary(engine_runs) for engine, engine_runs in runs.items()}
    return {"scale": scale, "data": str(lake), "counts_agree": counts_agree(runs),
            "peer_ratios": peer_ratios(summaries),
            "duckdb_ratios": {engine: summary["median_s"] / summaries[DUCKDB]["median_s"]
                              for engine, summary in summaries.items() if engine != DUCKDB},
            "differences": count_differences(runs),
            "engines": {engine: {"label": engine_label(engine), "summary": summaries[engine],
                                 "runs": [asdict(run) for run in runs[engine]]}
                        for engine in runs}}


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
            rows.append((f"{result['scale']:g}", f"{summary['accelerometer_rows']:,}",
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

def render_markdown(results: dict) -> str:
    """results.md: the machine, the method in one sentence, the table, and any disagreement."""
    rows = [row for row in table_rows(results["scales"]) if row is not SECTION_BREAK]
    align = ["---:" if i in NUMERIC_COLUMNS else "---" for i in range(len(HEADERS))]
    lines = ["# Benchmark: the pipeline (local Glue runtime, per Glue version) vs the usual peer "
             "and DuckDB", "",
             f"Machine: {machine_line(results['machine'])}", "",
             f"Each run is a fresh process (Spark's includes JVM start); {results['repeat']} "
             f"run(s) per engine and scale; peak MB is the resident memory of the whole process "
             f"tree; rows/s counts {THROUGHPUT_TABLE} rows per median second; / peer is the "
             "pipeline's median over the usual peer's on the same Spark. "
             "Method: bench/README.md.", "",
             "| " + " | ".join(HEADERS) + " |", "| " + " | ".join(align) + " |",
             *("| " + " | ".join(row) + " |" for row in rows)]
    for result in results["scales"]:
        if not result["counts_agree"]:
            lines += ["", f"**Row counts differ at scale {result['scale']:g}:** "
                      f"{disagreement(result)}"]
    return "\n".join(lines) + "\n"


def draw_chart(results: dict, out: Path) -> None:
    """Median time against scale for every engine on log-log axes; each project engine's
    points are labelled with its ratio to the peer on the same Spark. The peers are dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scales = [result["scale"] for result in results["scales"]]
    figure, axes = plt.subplots(figsize=(8, 5), dpi=110)
    engines = list(results["scales"][0]["engines"])
    for engine, marker in zip(engines, "o^vsDP", strict=False):
        medians = [result["engines"][engine]["summary"]["median_s"]
                   for result in results["scales"]]
        axes.plot(scales, medians, marker=marker,
                  linestyle="-" if is_project(engine) or engine == DUCKDB else "--",
                  label=results["scales"][0]["engines"][engine]["label"])
    # Labels above, below, then beside their points, so that close lines keep them apart.
    offsets = ((0, 8), (0, -16), (-24, -4), (24, -4))
    for result in results["scales"]:
        for (engine, ratio), offset in zip(result.get("peer_ratios", {}).items(), offsets,
                                           strict=False):
            axes.annotate(f"{ratio:.2f}x peer",
                          (result["scale"], result["engines"][engine]["summary"]["median_s"]),
                          textcoords="offset points", xytext=offset, ha="center", fontsize=9)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xticks(scales, labels=[
        f"{result['scale']:g}\n{result['engines'][DUCKDB]['summary']['accelerometer_rows']:,}"
        for result in results["scales"]])
    axes.minorticks_off()
    axes.margins(0.12)  # room for the ratio labels above the top points
    axes.set_xlabel(f"scale (1 = {generator.PEOPLE_PER_SCALE:,} customers) "
                    "and accelerometer rows")
    axes.set_ylabel("median wall time of a fresh process (s)")
    axes.set_title("STEDI pipeline (local Glue runtime) vs the usual peer and DuckDB\n"
                   "labels: pipeline time / peer time on the same Spark", fontsize=10)
    axes.grid(True, which="major", alpha=0.3)
    axes.legend()
    figure.text(0.01, 0.01, machine_line(results["machine"]), fontsize=7, color="#555555")
    figure.tight_layout(rect=(0, 0.03, 1, 1))
    figure.savefig(out)
    plt.close(figure)


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


def glue_versions(text: str) -> list[str]:
    """'6.0,5.0' -> ['6.0', '5.0'], in the order given; argparse reports unknown versions."""
    versions = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [v for v in versions if v not in GLUE_VERSIONS]
    if unknown or not versions:
        raise argparse.ArgumentTypeError(f"unknown Glue version {', '.join(unknown) or '(none)'};"
                                         f" choose from {', '.join(GLUE_VERSIONS)}")
    return versions


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
        for scale in args.scales:
            started = time.perf_counter()
            lake, reused = ensure_data(data_root, scale)
            how = "reused" if reused else f"generated in {time.perf_counter() - started:.1f} s"
            print(f"scale {scale:g}: data {lake} ({how})", flush=True)
            engines = engines_for(args.glue_versions)
            scales.append(scale_result(scale, lake,
                                       bench_scale(lake, scale, args.repeat, engines)))
    except CliError as error:
        fail(f"bench: {error}")
    results = {"machine": host, "repeat": args.repeat, "seed": SEED,
               "files_per_source": FILES_PER_SOURCE, "scales": scales}
    write_results(results, args.out)
    print(box_table(HEADERS, table_rows(scales), right_aligned=NUMERIC_COLUMNS))
    print(f"results: {args.out / 'results.md'}, {args.out / 'results.json'}, "
          f"{args.out / 'bench.png'}")
    disagreeing = [result for result in scales if not result["counts_agree"]]
    for result in disagreeing:
        print(f"error: the engines' row counts differ at scale {result['scale']:g}: "
              f"{disagreement(result)}", file=sys.stderr)
    return COUNTS_MISMATCH if disagreeing else 0


if __name__ == "__main__":
    sys.exit(main())
