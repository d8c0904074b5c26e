"""What a job that fails half-way leaves behind: its zone is marked incomplete until a run
finishes it, and no later job reads a half-written zone (the guarantee docs/zones.md, "Re-runs
and failures" describes)."""

from __future__ import annotations

import shutil

import pytest
from awsglue.data_sink import DataSink

from scripts._cli.errors import CliError
from scripts.lake import pipeline
from scripts.local_glue import runner
from scripts.local_glue.runner import run_pipeline
from scripts.sample_data.generator import generate
from tests.test_pipeline import output_rows

ACCELEROMETER_JOB = pipeline.job("accelerometer_landing_to_trusted")
CURATED_JOB = pipeline.job("customer_trusted_to_curated")


def marks(lake) -> list[str]:
    """The incomplete-zone marks (Hadoop's local file system adds hidden .crc files)."""
    return sorted(p.name for p in (lake / "_incomplete").iterdir() if not p.name.startswith("."))


@pytest.fixture(scope="module")
def crashed_lake(spark, tmp_path_factory):
    """A complete run, then accelerometer_landing_to_trusted dying after it wrote its files but
    before it finished (as a lost executor or a killed driver would). Made once: each test
    reads a copy (lake_after_a_crash)."""
    lake = tmp_path_factory.mktemp("crashed") / "lake"
    generate(lake, scale=0.02, seed=9, files_per_source=2)
    run_pipeline(lake, pipeline.JOBS, pipeline.job_options(), spark)
    complete = output_rows(lake)
    original_write = DataSink.writeFrame

    def crash_after_writing(self, frame, info=""):
        original_write(self, frame, info)
        raise RuntimeError("driver lost")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DataSink, "writeFrame", crash_after_writing)
        with pytest.raises(CliError,
                           match="job accelerometer_landing_to_trusted failed: driver lost"):
            run_pipeline(lake, (ACCELEROMETER_JOB,), pipeline.job_options(), spark)
    return lake, complete


@pytest.fixture
def lake_after_a_crash(crashed_lake, tmp_path):
    """This test's own copy of the crashed lake, and the rows of the complete run before it."""
    lake, complete = crashed_lake
    copy = tmp_path / "lake"
    shutil.copytree(lake, copy)
    return copy, complete


def test_the_crashed_jobs_zone_is_marked_incomplete(lake_after_a_crash):
    lake, _ = lake_after_a_crash
    assert marks(lake) == ["accelerometer_trusted"]


def test_a_later_job_refuses_the_incomplete_zone_and_keeps_its_own_output(spark,
                                                                          lake_after_a_crash):
    lake, complete = lake_after_a_crash
    with pytest.raises(CliError, match="accelerometer_trusted is incomplete: the job writing it "
                                       "failed mid-way; run that job again first"):
        run_pipeline(lake, (CURATED_JOB,), pipeline.job_options(), spark)
    assert output_rows(lake)["customer_curated"] == complete["customer_curated"]


def test_running_the_job_again_completes_the_zone(spark, lake_after_a_crash):
    lake, complete = lake_after_a_crash
    run_pipeline(lake, pipeline.JOBS, pipeline.job_options(), spark)
    assert marks(lake) == []
    assert output_rows(lake) == complete


def test_a_failing_job_keeps_its_traceback_and_names_it_in_one_line(spark, tmp_path,
                                                                    monkeypatch):
    """A job edited into a NameError: the error is one line that names the traceback file,
    and the file holds the script's file and line of the error."""
    job = pipeline.job("customer_landing_to_trusted")
    edited_root = tmp_path / "edited"
    script = edited_root / job.script
    script.parent.mkdir(parents=True)
    lines = (runner.REPO_ROOT / job.script).read_text().splitlines()
    at = lines.index("def transform(customer_landing: DataFrame) -> DataFrame:") + 2
    lines.insert(at, "    undefined_name_in_an_edit")
    script.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(runner, "REPO_ROOT", edited_root)
    lake = tmp_path / "lake"
    generate(lake, scale=0.02, seed=9, files_per_source=1)

    with pytest.raises(CliError) as failure:
        run_pipeline(lake, (job,), pipeline.job_options(), spark)
    kept = lake / "_logs" / f"{job.name}.traceback"
    message = str(failure.value)
    assert "\n" not in message
    assert message.startswith(f"job {job.name} failed: name 'undefined_name_in_an_edit' is not "
                              f"defined (traceback: {kept};")
    assert f'File "{script}", line {at + 1}, in transform' in kept.read_text()
    assert kept.read_text().rstrip().endswith(
        "NameError: name 'undefined_name_in_an_edit' is not defined")
    monkeypatch.undo()  # the script as committed: the run succeeds and drops the old traceback
    run_pipeline(lake, (job,), pipeline.job_options(), spark)
    assert not kept.exists()
