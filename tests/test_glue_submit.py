"""The job parameters docs/glue-studio.md documents for Glue Studio are the ones tested: its one
table is read from that page, its five glue_submit commands must be that table, and they are
typed as a person types them (the local lake for s3://<bucket>, a local key for the SSM ARN),
each in a process of its own that runs the script as Glue does. And glue_submit's own mistakes
are one line with exit status 2."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from glue_jobs.shared import device_key, job_plumbing
from scripts import glue_submit
from scripts.lake import local_device_key, pipeline
from scripts.local_glue.runner import run_pipeline
from scripts.sample_data.generator import generate
from tests.support import REPO_ROOT

GLUE_STUDIO = REPO_ROOT / "docs" / "glue-studio.md"
TABLE_HEADER = "| script | parameter (Key) | value (Value) | required |"
SET_BY_GLUE = "set by Glue"
LAKE_PLACEHOLDER = "s3://<bucket>"
SSM_ARN_PREFIX = "ssm:arn:aws:ssm:"
COMMAND = (".venv/bin/python", "-m", "scripts.glue_submit")
SCRIPTS = [job.script.removeprefix("glue_jobs/") for job in pipeline.dependency_order()]


def readme_table() -> list[dict[str, str]]:
    """The rows of the page's one table of Glue Studio parameters, backticks removed."""
    lines = GLUE_STUDIO.read_text().splitlines()
    assert lines.count(TABLE_HEADER) == 1, "the page has one table of Glue Studio parameters"
    start = lines.index(TABLE_HEADER) + 2
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip().replace("`", "") for cell in line.strip("|").split("|")]
        rows.append(dict(zip(("script", "parameter", "value", "required"), cells)))
    return rows


def studio_parameters(script: str) -> list[tuple[str, str]]:
    """(Key, Value) of every row naming the script, as typed in Glue Studio, in table order."""
    return [(row["parameter"], row["value"]) for row in readme_table()
            if row["script"] in ("every script", script)
            and not row["required"].startswith(SET_BY_GLUE)]


def readme_commands() -> list[list[str]]:
    """The glue_submit commands of the page, as the shell splits them."""
    joined = GLUE_STUDIO.read_text().replace("\\\n", " ")
    return [shlex.split(line) for line in joined.splitlines()
            if line.startswith(" ".join(COMMAND) + " ")]


def typed_locally(command: list[str], lake: Path, key_file: Path) -> list[str]:
    """The page's command as typed on this machine: the local lake where Glue has the
    bucket, a local key file where Glue has the SSM parameter, this test's Python."""
    words = [str(lake) if word == LAKE_PLACEHOLDER
             else local_device_key.key_locator(key_file) if word.startswith(SSM_ARN_PREFIX)
             else word for word in command[len(COMMAND):]]
    return [sys.executable, "-m", "scripts.glue_submit", *words]


def run(arguments: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(arguments, cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=600)


def without(words: list[str], key: str) -> list[str]:
    at = words.index(key)
    return words[:at] + words[at + 2:]


# --- the page: one table, and the commands are that table ------------------------------------

def test_the_table_gives_every_script_its_lake_and_only_machine_learning_curated_a_key():
    rows = readme_table()
    assert {row["script"] for row in rows} == {"every script", "machine_learning_curated.py"}
    required = {row["parameter"] for row in rows if row["required"].startswith("yes")}
    assert required == {"--lake_root", "--device_key"}
    [key_row] = [row for row in rows if row["parameter"] == "--device_key"]
    assert key_row["value"].endswith(":parameter/stedi-lakehouse/stedi/device-id-key")


def test_the_readme_commands_are_the_table_for_each_script_in_the_order_of_the_runs():
    expected = [[*COMMAND, f"glue_jobs/{script}", "--JOB_NAME", script.removesuffix(".py"),
                 *[word for pair in studio_parameters(script) for word in pair]]
                for script in SCRIPTS]
    assert readme_commands() == expected


# --- the five commands, typed, on a generated lake -----------------------------------------------

@pytest.fixture(scope="module")
def submitted(spark, tmp_path_factory):
    """Two lakes of the same generated landing data: the five commands of the page typed in
    order on one (machine_learning_curated first without its key), the runner on the other."""
    root = tmp_path_factory.mktemp("glue_submit")
    key_file = root / "keys" / "device-id.key"
    local_device_key.ensure_key_file(key_file)
    lakes = {}
    for name in ("submitted", "runner"):
        lakes[name] = root / name
        generate(lakes[name], scale=0.02, seed=23, files_per_source=1)
    commands = [typed_locally(command, lakes["submitted"], key_file)
                for command in readme_commands()]
    results = [run(command) for command in commands[:-1]]
    keyless = run(without(commands[-1], "--device_key"))
    results.append(run(commands[-1]))
    report = run_pipeline(lakes["runner"], pipeline.JOBS, pipeline.job_options(), spark,
                          device_key_file=key_file)
    return lakes, results, keyless, report


def test_every_readme_command_succeeds(submitted):
    _, results, _, _ = submitted
    assert [(result.returncode, result.stderr) for result in results] == [(0, "")] * 5


def test_the_tables_are_written_with_the_runners_counts(submitted, spark):
    lakes, _, _, report = submitted
    lake = lakes["submitted"]
    counts = {}
    for table in pipeline.TABLES:
        if table.is_landing:
            accounting = json.loads((lake / pipeline.accounting_path(table.source)).read_text())
            counts[table.name] = accounting["accepted"]
        else:
            counts[table.name] = spark.read.parquet(table.location(lake)).count()
    assert counts == report["tables"]
    assert all(count > 0 for count in counts.values())
    catalog = {path.stem for path in (lake / "_catalog" / "stedi").glob("*.json")}
    assert catalog >= {table.name for table in pipeline.output_tables()}


def test_the_submitted_machine_learning_curated_equals_the_runners_row_for_row(submitted, spark):
    lakes, _, _, _ = submitted
    location = pipeline.table("machine_learning_curated").location
    rows = {name: sorted(spark.read.parquet(location(lakes[name])).collect())
            for name in ("submitted", "runner")}
    assert rows["submitted"] == rows["runner"]


def test_each_command_reports_the_table_it_wrote_with_its_rows(submitted):
    lakes, results, _, report = submitted
    for job, result in zip(pipeline.dependency_order(), results):
        table = pipeline.table(job.output)
        rows = f"{report['tables'][table.name]:,}"
        assert (f"wrote {table.name}: {rows} rows ({table.location(lakes['submitted'])}); the "
                f"job's log: {lakes['submitted'] / '_logs' / job.name}.log; done in ") \
            in result.stdout


def test_machine_learning_curated_without_its_key_is_one_line_naming_the_fix(submitted):
    lakes, _, keyless, _ = submitted
    traceback = lakes["submitted"] / "_logs" / "machine_learning_curated.traceback"
    assert keyless.returncode == 2
    assert keyless.stderr == (
        "error: job machine_learning_curated failed: --device_key is missing: add the job "
        "parameter --device_key ssm:<parameter ARN> (or s3://<bucket>/<object>; locally "
        "file:<path>, which python -m scripts.local_key prints); docs/glue-studio.md, "
        "\"The device-id key\" shows how to make the key"
        f" (traceback: {traceback}; Spark log: "
        f"{lakes['submitted'] / '_logs' / 'spark.log'})\n")
    assert not traceback.exists()  # the run with the key, after it, removed it


# --- sys.argv as Glue builds it -----------------------------------------------------------------

def test_the_argv_holds_the_run_identifiers_the_parameters_and_studios_defaults(tmp_path):
    script = tmp_path / "job.py"
    argv = glue_submit.glue_argv(script, {"--JOB_NAME": "j", "--lake_root": "/lake",
                                          "--TempDir": "/mine/"}, tmp_path)
    assert argv[0] == str(script)
    assert re.fullmatch(r"j_[0-9a-f]{64}", argv[argv.index("--JOB_ID") + 1])
    assert re.fullmatch(r"jr_[0-9a-f]{64}", argv[argv.index("--JOB_RUN_ID") + 1])
    pairs = dict(zip(argv[1::2], argv[2::2]))
    assert len(pairs) * 2 == len(argv) - 1  # each key once, each with its value
    assert pairs == {"--JOB_ID": pairs["--JOB_ID"], "--JOB_RUN_ID": pairs["--JOB_RUN_ID"],
                     "--JOB_NAME": "j", "--lake_root": "/lake", "--TempDir": "/mine/",
                     **{k: v for k, v in glue_submit.studio_defaults(tmp_path).items()
                        if k != "--TempDir"}}


@pytest.mark.every_glue_version
@pytest.mark.parametrize("valueless_flag", [False, True])
def test_the_scripts_read_their_parameters_among_what_glue_adds(tmp_path, valueless_flag):
    """Whatever else Glue puts in sys.argv, in whatever order, and with getResolvedOptions as
    this Glue version has it (abbreviations on in 5.x): a flag without a value too, as AWS
    documents --enable-metrics ("only specify the key")."""
    arn = "arn:aws:ssm:us-east-1:123456789012:parameter/stedi-lakehouse/lake/device-id-key"
    parameters = {"--JOB_NAME": "machine_learning_curated", "--lake_root": "s3://bucket/",
                  "--database": "lake", "--consent_mode": "since_consent",
                  "--ml_match": "timestamp",
                  "--conf": "spark.hadoop.fs.s3a.endpoint.region=us-east-1",
                  "--device_key": f"ssm:{arn}"}
    argv = glue_submit.glue_argv(tmp_path / "machine_learning_curated.py", parameters, tmp_path)
    if valueless_flag:
        argv.insert(1, "--enable-metrics")
    args = job_plumbing.resolve_arguments(argv)
    assert {name: args[name] for name in ("JOB_NAME", "lake_root", "database", "consent_mode",
                                          "ml_match")} == {
        "JOB_NAME": "machine_learning_curated", "lake_root": "s3://bucket",
        "database": "lake", "consent_mode": "since_consent", "ml_match": "timestamp"}
    assert device_key.device_key_argument(argv) == f"ssm:{arn}"


# --- glue_submit's own mistakes: one line, exit status 2 --------------------------------------

@pytest.fixture
def lake(tmp_path):
    folder = tmp_path / "lake"
    folder.mkdir()
    return folder


MISTAKES = {
    "no script": ([], "glue_submit: the following arguments are required: script, --<key> "
                      "<value> (see --help)"),
    "a script that does not exist": (["glue_jobs/nope.py", "--JOB_NAME", "n", "--lake_root",
                                      "{lake}"],
                                     "script glue_jobs/nope.py not found (the five are "
                                     "glue_jobs/<job>.py)"),
    "no --JOB_NAME": (["glue_jobs/step_trainer_trusted.py", "--lake_root", "{lake}"],
                      "missing --JOB_NAME: --JOB_NAME is the job's name (Glue sets it), "
                      "--lake_root the lake folder (where Glue has s3://<bucket>)"),
    "no parameters": (["glue_jobs/step_trainer_trusted.py"],
                      "missing --JOB_NAME and --lake_root: --JOB_NAME is the job's name (Glue "
                      "sets it), --lake_root the lake folder (where Glue has s3://<bucket>)"),
    "a key without its value": (["glue_jobs/step_trainer_trusted.py", "--JOB_NAME", "n",
                                 "--lake_root", "{lake}", "--database"],
                                "--database has no value: give each parameter as --<key> "
                                "<value>"),
    "a key followed by a key": (["glue_jobs/step_trainer_trusted.py", "--JOB_NAME",
                                 "--lake_root", "{lake}"],
                                "--JOB_NAME has no value: give each parameter as --<key> "
                                "<value>"),
    "key=value": (["glue_jobs/step_trainer_trusted.py", "--JOB_NAME=n", "--lake_root",
                   "{lake}"],
                  "--JOB_NAME=n: give the key and its value as two words (--key value), as "
                  "Glue Studio's Key and Value fields hold them"),
    "a word that is no key": (["glue_jobs/step_trainer_trusted.py", "lake_root", "{lake}"],
                              "'lake_root' is not a job parameter: give each as --<key> "
                              "<value>, Glue Studio's Key and Value"),
    "a key twice": (["glue_jobs/step_trainer_trusted.py", "--JOB_NAME", "n", "--lake_root",
                     "{lake}", "--JOB_NAME", "m"],
                    "--JOB_NAME is given twice: a Glue job has one value per key"),
    "a run identifier": (["glue_jobs/step_trainer_trusted.py", "--JOB_NAME", "n",
                          "--lake_root", "{lake}", "--JOB_RUN_ID", "jr_1"],
                         "--JOB_RUN_ID is set by Glue for each run: leave it out"),
    "the bucket as lake": (["glue_jobs/step_trainer_trusted.py", "--JOB_NAME", "n",
                            "--lake_root", "s3://<bucket>"],
                           "--lake_root s3://<bucket> is a bucket: locally the lake is a "
                           "folder, given where Glue Studio has s3://<bucket>"),
    "a lake that does not exist": (["glue_jobs/step_trainer_trusted.py", "--JOB_NAME", "n",
                                    "--lake_root", "{lake}/nowhere"],
                                   "lake folder {lake}/nowhere does not exist (python -m "
                                   "scripts.generate_data --lake {lake}/nowhere makes one)"),
}


@pytest.mark.parametrize("argv, message", MISTAKES.values(), ids=MISTAKES.keys())
def test_a_mistake_on_the_command_line_is_one_line_and_status_2(argv, message, lake, capsys,
                                                                  monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    with pytest.raises(SystemExit) as exit_:
        glue_submit.main([word.format(lake=lake) for word in argv])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == f"error: {message.format(lake=lake)}\n"


def test_a_mistake_ends_the_process_with_one_line_and_status_2(lake):
    """As a person meets it: the process's own exit status and standard error."""
    result = run([sys.executable, "-m", "scripts.glue_submit",
                  "glue_jobs/step_trainer_trusted.py", "--lake_root", str(lake)])
    assert (result.returncode, result.stderr.count("\n")) == (2, 1)
    assert result.stderr.startswith("error: missing --JOB_NAME:")
