"""The local JVM's settings: JIT tiers by run length, the class archive, and how a run is sized."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from scripts.lake import pipeline
from scripts.local_glue import class_archive
from scripts.local_glue.class_archive import can_write_archive, java_executable
from scripts.local_glue.glue_process import landing_bytes
from scripts.local_glue.session import CLASS_ARCHIVE, java_options
from scripts.sample_data.generator import generate


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


def test_the_archive_make_wrote_holds_the_classes_of_a_whole_pipeline_run(tmp_path):
    """`make test` writes the archive before the tests (make's class-archive step, one pipeline
    run on a tiny lake); the tests' own Spark sessions map it."""
    partial = CLASS_ARCHIVE.with_name(CLASS_ARCHIVE.name + ".partial")
    assert not partial.exists()
    if can_write_archive(java_executable(), tmp_path):
        assert CLASS_ARCHIVE.is_file(), "run the tests with `make test`, which writes it first"
        assert CLASS_ARCHIVE.stat().st_size > 10 * 2 ** 20  # ~20,000 classes, not a JVM's few
    else:
        assert not CLASS_ARCHIVE.exists()


def archive_of_a_short_jvm(partial: Path, work: Path) -> None:
    """A real JVM that writes the classes it loaded to ``partial`` at exit: the archive of
    ``java --list-modules``, in a fraction of a second instead of a pipeline run's minute."""
    subprocess.run([java_executable(), f"-XX:ArchiveClassesAtExit={partial}", "-Xlog:cds=off",
                    "-Xlog:cds+dynamic=off", "--list-modules"], capture_output=True, check=True)


def test_an_archive_is_renamed_into_place_once_its_jvm_has_exited(tmp_path, capsys):
    output = tmp_path / "archive" / "spark-classes.jsa"
    assert class_archive.main(["--output", str(output)], record=archive_of_a_short_jvm) == 0
    assert not output.with_name(output.name + ".partial").exists()
    if can_write_archive(java_executable(), tmp_path):
        assert output.stat().st_size > 0
        assert capsys.readouterr().out.splitlines()[-1].startswith(f"class archive: {output}")
    else:
        assert not output.exists()
        assert "no class archive" in capsys.readouterr().out


def test_an_archive_whose_recording_failed_never_takes_the_place_of_one(tmp_path):
    output = tmp_path / "spark-classes.jsa"
    output.write_bytes(b"the archive of an earlier run")

    def crashes_after_writing_half(partial: Path, work: Path) -> None:
        partial.write_bytes(b"half an archive")
        raise RuntimeError("the pipeline run failed")

    with pytest.raises(RuntimeError, match="the pipeline run failed"):
        class_archive.main(["--output", str(output)], record=crashes_after_writing_half)
    assert output.read_bytes() == b"the archive of an earlier run"


def test_a_recording_that_wrote_nothing_leaves_no_archive(tmp_path, capsys):
    output = tmp_path / "spark-classes.jsa"
    assert class_archive.main(["--output", str(output)], record=lambda partial, work: None) == 0
    assert not output.exists()
    if can_write_archive(java_executable(), tmp_path):
        assert capsys.readouterr().out.splitlines()[-1] == (
            "no class archive: the JVM wrote none; Spark starts without it")
