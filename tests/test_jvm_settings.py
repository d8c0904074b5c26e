"""The local JVM's settings: JIT tiers by run length, the class archive, and how a run is sized."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from scripts import pipeline
from scripts.local_glue.class_archive import can_write_archive, java_executable
from scripts.sample_data.generator import generate
from scripts.local_glue.session import CLASS_ARCHIVE, java_options
from scripts.run_local import landing_bytes


def jvm_arguments(spark) -> list[str]:
    bean = spark.sparkContext._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean()
    return list(bean.getInputArguments())


def test_the_running_jvm_has_the_options_of_a_long_run(spark):
    arguments = jvm_arguments(spark)
    assert "-XX:+UseParallelGC" in arguments
    # The test session runs for minutes: a long run, whatever the size of its data.
    assert "-XX:Tier4InvocationThreshold=50000" in arguments
    assert "-XX:TieredStopAtLevel=1" not in arguments
    assert (f"-XX:SharedArchiveFile={CLASS_ARCHIVE}" in arguments) == CLASS_ARCHIVE.is_file()


def test_a_short_run_compiles_with_the_first_jit_tier_only(tmp_path):
    options = java_options(tmp_path / "spark.log", short_run=True, archive_classes_to=None)
    assert "-XX:TieredStopAtLevel=1" in options.split()
    assert "Tier4" not in options


def test_recording_an_archive_never_maps_one(tmp_path):
    target = tmp_path / "new.jsa"
    options = java_options(tmp_path / "spark.log", short_run=True,
                           archive_classes_to=target).split()
    assert f"-XX:ArchiveClassesAtExit={target}" in options
    assert not any(o.startswith("-XX:SharedArchiveFile") for o in options)


def test_landing_bytes_count_the_landing_files_the_jobs_read(tmp_path):
    lake = tmp_path / "lake"
    generate(lake, scale=0.01, seed=3, files_per_source=2)
    sizes = {source: sum(f.stat().st_size for f in (lake / source / "landing").iterdir())
             for source in pipeline.SOURCES}
    assert landing_bytes(lake, pipeline.JOBS) == sum(sizes.values())
    accelerometer_job = (pipeline.job("accelerometer_landing_to_trusted"),)
    assert landing_bytes(lake, accelerometer_job) == sizes["accelerometer"]
    assert landing_bytes(lake, (pipeline.job("machine_learning_curated"),)) == 0


def test_class_archive_is_written_whole_or_not_at_all(tmp_path):
    output = tmp_path / "archive" / "spark-classes.jsa"
    result = subprocess.run([sys.executable, "-m", "scripts.local_glue.class_archive", "--output",
                             str(output)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert not output.with_name(output.name + ".partial").exists()
    if can_write_archive(java_executable(), tmp_path):
        assert output.stat().st_size > 10 * 2 ** 20  # the classes of a whole pipeline run
        assert result.stdout.strip().splitlines()[-1].startswith(f"class archive: {output}")
    else:
        assert not Path(output).exists()
        assert "no class archive" in result.stdout
