"""The zone rules of each Glue job's pure transform(), on small inline inputs with exact outputs."""

from __future__ import annotations

import ast
import sys

import pytest
from chispa import assert_df_equality
from pyspark.sql.types import DoubleType, LongType, StringType, StructField, StructType

from glue_jobs.shared import job_plumbing
from scripts.dev.glue_scripts import render_script, shared_blocks
from scripts.lake import local_device_key, pipeline
from scripts.reference import landing_python, zones_duckdb
from scripts.sample_data.generator import generate
from tests.support import REPO_ROOT, load_job_module

pytestmark = pytest.mark.every_glue_version

CUSTOMER_JOB = load_job_module("customer_landing_to_trusted")
ACCELEROMETER_JOB = load_job_module("accelerometer_landing_to_trusted")
CURATED_JOB = load_job_module("customer_trusted_to_curated")
STEP_TRAINER_JOB = load_job_module("step_trainer_trusted")
ML_JOB = load_job_module("machine_learning_curated")

CUSTOMER_SCHEMA = CUSTOMER_JOB.CUSTOMER_LANDING_SCHEMA
ACCELEROMETER_SCHEMA = ACCELEROMETER_JOB.ACCELEROMETER_LANDING_SCHEMA
STEP_TRAINER_SCHEMA = STEP_TRAINER_JOB.STEP_TRAINER_LANDING_SCHEMA
ML_SCHEMA = StructType([
    StructField("sensorReadingTime", LongType()),
    StructField("deviceId", StringType()),
    StructField("distanceFromObject", STEP_TRAINER_SCHEMA["distanceFromObject"].dataType),
    StructField("x", DoubleType()),
    StructField("y", DoubleType()),
    StructField("z", DoubleType()),
])


def customer(email, serial, registered=100, updated=100, research=100, name="A B"):
    """A customer row in landing column order; ``research`` None means no consent."""
    return (name, email, "8015551212", "1990-01-01", serial, registered, updated, research,
            None, None)


def equal(actual, expected_rows, schema, spark):
    assert_df_equality(actual, spark.createDataFrame(expected_rows, schema),
                       ignore_row_order=True, ignore_nullable=True)


# --- customer_landing_to_trusted ---------------------------------------------------------------

def test_customer_trusted_keeps_only_customers_with_research_consent(spark):
    landing = spark.createDataFrame([customer("a@x", "s1", research=5),
                                     customer("b@x", "s2", research=None)], CUSTOMER_SCHEMA)
    equal(CUSTOMER_JOB.transform(landing), [customer("a@x", "s1", research=5)],
          CUSTOMER_SCHEMA, spark)


def test_customer_trusted_takes_the_latest_record_per_email(spark):
    landing = spark.createDataFrame([
        customer("a@x", "s1", updated=10, research=None, name="Old Name"),
        customer("a@x", "s1", updated=20, research=15, name="New Name"),
    ], CUSTOMER_SCHEMA)
    equal(CUSTOMER_JOB.transform(landing),
          [customer("a@x", "s1", updated=20, research=15, name="New Name")],
          CUSTOMER_SCHEMA, spark)


def test_customer_trusted_drops_a_customer_whose_latest_record_withdraws_consent(spark):
    landing = spark.createDataFrame([customer("a@x", "s1", updated=10, research=5),
                                     customer("a@x", "s1", updated=20, research=None)],
                                    CUSTOMER_SCHEMA)
    assert CUSTOMER_JOB.transform(landing).count() == 0


def test_customer_trusted_breaks_update_ties_by_registration_date(spark):
    landing = spark.createDataFrame([
        customer("a@x", "s-old", registered=1, updated=20, research=5),
        customer("a@x", "s-new", registered=2, updated=20, research=5),
    ], CUSTOMER_SCHEMA)
    equal(CUSTOMER_JOB.transform(landing),
          [customer("a@x", "s-new", registered=2, updated=20, research=5)],
          CUSTOMER_SCHEMA, spark)


def test_customer_trusted_has_one_row_per_email_for_identical_records(spark):
    landing = spark.createDataFrame([customer("a@x", "s1")] * 3, CUSTOMER_SCHEMA)
    equal(CUSTOMER_JOB.transform(landing), [customer("a@x", "s1")], CUSTOMER_SCHEMA, spark)


def test_customer_trusted_names_the_missing_columns(spark):
    landing = spark.createDataFrame([("a@x",)], "email string")
    with pytest.raises(CUSTOMER_JOB.MissingColumnsError, match="customerName, phone"):
        CUSTOMER_JOB.transform(landing)


# --- accelerometer_landing_to_trusted ----------------------------------------------------------

def trusted_customers(spark):
    return spark.createDataFrame([customer("a@x", "s1", research=100),
                                  customer("b@x", "s2", research=100)], CUSTOMER_SCHEMA)


def test_accelerometer_trusted_keeps_readings_of_trusted_customers_only(spark):
    readings = spark.createDataFrame([("a@x", 50, 1.0, 0.0, -1.0), ("b@x", 150, 0.0, 1.0, 0.0),
                                      ("stranger@x", 150, 1.0, 1.0, 1.0)], ACCELEROMETER_SCHEMA)
    equal(ACCELEROMETER_JOB.transform(readings, trusted_customers(spark)),
          [("a@x", 50, 1.0, 0.0, -1.0), ("b@x", 150, 0.0, 1.0, 0.0)], ACCELEROMETER_SCHEMA,
          spark)


def test_accelerometer_trusted_since_consent_keeps_readings_from_the_consent_instant(spark):
    readings = spark.createDataFrame([("a@x", 99, 1.0, 0.0, 0.0), ("a@x", 100, 2.0, 0.0, 0.0),
                                      ("a@x", 101, 3.0, 0.0, 0.0)], ACCELEROMETER_SCHEMA)
    equal(ACCELEROMETER_JOB.transform(readings, trusted_customers(spark), "since_consent"),
          [("a@x", 100, 2.0, 0.0, 0.0), ("a@x", 101, 3.0, 0.0, 0.0)], ACCELEROMETER_SCHEMA,
          spark)


def test_accelerometer_trusted_removes_exact_duplicates_only(spark):
    readings = spark.createDataFrame([("a@x", 50, 1.0, 0.0, 0.0), ("a@x", 50, 1.0, 0.0, 0.0),
                                      ("a@x", 50, 0.0, 1.0, 0.0)], ACCELEROMETER_SCHEMA)
    equal(ACCELEROMETER_JOB.transform(readings, trusted_customers(spark)),
          [("a@x", 50, 1.0, 0.0, 0.0), ("a@x", 50, 0.0, 1.0, 0.0)], ACCELEROMETER_SCHEMA, spark)


def test_accelerometer_trusted_does_not_multiply_readings_of_a_repeated_customer(spark):
    twice = spark.createDataFrame([customer("a@x", "s1")] * 2, CUSTOMER_SCHEMA)
    readings = spark.createDataFrame([("a@x", 150, 1.0, 0.0, 0.0)], ACCELEROMETER_SCHEMA)
    assert ACCELEROMETER_JOB.transform(readings, twice).count() == 1


# --- customer_trusted_to_curated ---------------------------------------------------------------

def test_customer_curated_keeps_customers_with_readings_once_each(spark):
    readings = spark.createDataFrame([("a@x", 1, 0.0, 0.0, 0.0), ("a@x", 2, 0.0, 0.0, 0.0)],
                                     ACCELEROMETER_SCHEMA)
    equal(CURATED_JOB.transform(trusted_customers(spark), readings),
          [customer("a@x", "s1", research=100)], CUSTOMER_SCHEMA, spark)


# --- step_trainer_trusted ----------------------------------------------------------------------

def test_step_trainer_trusted_keeps_readings_of_curated_devices(spark):
    readings = spark.createDataFrame([(50, "s1", 10), (60, "s2", 20), (70, "unknown", 30)],
                                     STEP_TRAINER_SCHEMA)
    equal(STEP_TRAINER_JOB.transform(readings, trusted_customers(spark)),
          [(50, "s1", 10), (60, "s2", 20)], STEP_TRAINER_SCHEMA, spark)


def test_step_trainer_trusted_since_consent_keeps_readings_from_the_consent_instant(spark):
    readings = spark.createDataFrame([(99, "s1", 10), (100, "s1", 20)], STEP_TRAINER_SCHEMA)
    equal(STEP_TRAINER_JOB.transform(readings, trusted_customers(spark), "since_consent"),
          [(100, "s1", 20)], STEP_TRAINER_SCHEMA, spark)


def test_step_trainer_trusted_shared_serial_and_duplicates_never_multiply(spark):
    sharing = spark.createDataFrame([customer("a@x", "s1"), customer("b@x", "s1")],
                                    CUSTOMER_SCHEMA)
    readings = spark.createDataFrame([(50, "s1", 10), (50, "s1", 10)], STEP_TRAINER_SCHEMA)
    equal(STEP_TRAINER_JOB.transform(readings, sharing), [(50, "s1", 10)],
          STEP_TRAINER_SCHEMA, spark)


# --- machine_learning_curated ------------------------------------------------------------------

def shared_instant_inputs(spark):
    """Customers a (device s1) and b (device s2) both have readings at t=100."""
    steps = spark.createDataFrame([(100, "s1", 10), (100, "s2", 20), (200, "s1", 30)],
                                  STEP_TRAINER_SCHEMA)
    phones = spark.createDataFrame([("a@x", 100, 1.0, 0.0, 0.0), ("b@x", 100, 0.0, 1.0, 0.0),
                                    ("a@x", 200, 0.0, 0.0, 1.0)], ACCELEROMETER_SCHEMA)
    return steps, phones, trusted_customers(spark)


KEY = bytes(range(32))
# HMAC-SHA256 under KEY, computed apart from the job (`printf s1 | openssl dgst -sha256 -mac
# HMAC -macopt hexkey:000102...1f`): the job must name s1 and s2 by exactly these.
S1 = "3fe711aae85a53cba26fec699ea91acd21f9a40d12808ffbec3a0f6cf5cfe409"
S2 = "88585231ec2afe3577ef4e81d50dcfeec02f78561d737a5bec9cd4c05d5b54e6"


def test_machine_learning_curated_device_pairs_readings_of_one_owner(spark):
    steps, phones, owners = shared_instant_inputs(spark)
    equal(ML_JOB.transform(steps, phones, owners, KEY, "device"),
          [(100, S1, 10, 1.0, 0.0, 0.0), (100, S2, 20, 0.0, 1.0, 0.0),
           (200, S1, 30, 0.0, 0.0, 1.0)], ML_SCHEMA, spark)


def test_machine_learning_curated_timestamp_pairs_across_customers(spark):
    steps, phones, owners = shared_instant_inputs(spark)
    equal(ML_JOB.transform(steps, phones, owners, KEY, "timestamp"),
          [(100, S1, 10, 1.0, 0.0, 0.0), (100, S1, 10, 0.0, 1.0, 0.0),
           (100, S2, 20, 1.0, 0.0, 0.0), (100, S2, 20, 0.0, 1.0, 0.0),
           (200, S1, 30, 0.0, 0.0, 1.0)], ML_SCHEMA, spark)


def test_machine_learning_curated_ownership_test_never_multiplies_rows(spark):
    steps, phones, _ = shared_instant_inputs(spark)
    owner_listed_twice = spark.createDataFrame([customer("a@x", "s1"), customer("a@x", "s1"),
                                                customer("b@x", "s2")], CUSTOMER_SCHEMA)
    assert ML_JOB.transform(steps, phones, owner_listed_twice, KEY, "device").count() == 3


@pytest.mark.parametrize("ml_match", pipeline.ML_MATCHES)
def test_machine_learning_curated_equals_the_reference_on_a_fleet_with_shared_serials(
        spark, tmp_path, ml_match):
    """A fleet on 30 shared clocks (about 10 devices at every instant) whose export also names
    30 serial numbers for nearly all customers (--dirty): the job's rows, from the reference's
    own upstream zones, are the DuckDB reference's, row for row, for both ml_match."""
    lake = tmp_path / "lake"
    generate(lake, scale=0.3, seed=5, files_per_source=2, dirty=True, fleet_clocks=30)
    key = local_device_key.key_of(local_device_key.default_key_file())
    reference = zones_duckdb.compute_zones(lake, ml_match=ml_match, device_key=key,
                                           accepted_rows=landing_python.accepted_rows(lake))
    # The reference's zones with all their columns (customer_curated has the customer's).
    schemas = {"step_trainer_trusted": ML_JOB.ZONE_SCHEMAS["step_trainer_trusted"],
               "accelerometer_trusted": ML_JOB.ZONE_SCHEMAS["accelerometer_trusted"],
               "customer_curated": CUSTOMER_SCHEMA}
    inputs = [spark.createDataFrame(reference.sql(f"select * from {name}").fetchall(), schema)
              for name, schema in schemas.items()]
    actual = sorted(map(tuple, ML_JOB.transform(*inputs, key, ml_match).collect()))
    expected = sorted(reference.sql("select * from machine_learning_curated").fetchall())
    shared_instants = reference.sql(
        "select count(*) from (select timestamp from accelerometer_trusted group by timestamp "
        "having count(distinct user) >= 5)").fetchone()[0]
    assert shared_instants > 100  # the shape this test is about
    assert len(actual) == len(expected) and actual == expected


def test_machine_learning_curated_has_no_personal_data(spark):
    steps, phones, owners = shared_instant_inputs(spark)
    columns = ML_JOB.transform(steps, phones, owners, KEY).columns
    assert columns == ["sensorReadingTime", "deviceId", "distanceFromObject", "x", "y", "z"]


def test_machine_learning_curated_device_id_depends_on_the_key(spark):
    """Another key, other ids for the same devices: the id is keyed, not a plain hash."""
    steps, phones, owners = shared_instant_inputs(spark)
    ids = {row.deviceId for row in
           ML_JOB.transform(steps, phones, owners, bytes(32)).select("deviceId").collect()}
    assert len(ids) == 2 and ids.isdisjoint({S1, S2})


def test_device_key_file_open_to_others_is_refused(tmp_path):
    key_file = tmp_path / "device-id.key"
    key_file.write_text(KEY.hex())
    key_file.chmod(0o640)
    with pytest.raises(ML_JOB.DeviceKeyError, match="readable by others"):
        ML_JOB.read_device_key(f"file:{key_file}")
    key_file.chmod(0o600)
    assert ML_JOB.read_device_key(f"file:{key_file}") == KEY


@pytest.mark.parametrize("text", ["", "not hex", "00" * 16])
def test_device_key_that_is_not_32_bytes_of_hex_is_refused_without_echoing_it(tmp_path, text):
    key_file = tmp_path / "device-id.key"
    key_file.write_text(text)
    key_file.chmod(0o600)
    with pytest.raises(ML_JOB.DeviceKeyError) as raised:
        ML_JOB.read_device_key(f"file:{key_file}")
    assert str(raised.value) == (f"device key file {key_file} does not hold a key of 32 bytes "
                                 "in hexadecimal: put one there, made with openssl rand -hex 32 "
                                 '(docs/glue-studio.md, "The device-id key")')


def test_device_key_file_that_does_not_exist_names_the_command_that_makes_it(tmp_path):
    missing = tmp_path / "nowhere.key"
    with pytest.raises(ML_JOB.DeviceKeyError) as raised:
        ML_JOB.read_device_key(f"file:{missing}")
    assert str(raised.value) == (f"device key file {missing} does not exist: make it with "
                                 f"python -m scripts.local_key --file {missing}")


MISSING_KEY = ('--device_key is missing: add the job parameter --device_key ssm:<parameter ARN> '
               '(or s3://<bucket>/<object>; locally file:<path>, which python -m '
               'scripts.local_key prints); docs/glue-studio.md, "The device-id key" shows how '
               'to make the key')


@pytest.mark.parametrize("argv", [
    ["job.py", "--JOB_NAME", "j", "--lake_root", "/lake"],
    ["job.py", "--JOB_NAME", "j", "--device_key"],  # a name without its value
])
def test_a_missing_device_key_argument_names_the_fix(argv):
    with pytest.raises(ML_JOB.DeviceKeyError) as raised:
        ML_JOB.device_key_argument(argv)
    assert str(raised.value) == MISSING_KEY


def test_the_device_key_argument_is_read_among_glues_own():
    argv = ["/tmp/job.py", "--JOB_ID", "j_1", "--device_key", "file:/k", "--JOB_RUN_ID", "jr_1",
            "--enable-metrics", "true"]
    assert ML_JOB.device_key_argument(argv) == "file:/k"


LOCATORS = 'ssm:<parameter ARN>, s3://<bucket>/<object> or file:<path>'


@pytest.mark.parametrize("locator, refusal", [
    ("file:", f"--device_key must be {LOCATORS}, not 'file:'"),
    ("ssm:", f"--device_key must be {LOCATORS}, not 'ssm:'"),
    ("gs://bucket/key", f"--device_key must be {LOCATORS}, not 'gs://bucket/key'"),
    ("s3:/bucket/key", f"--device_key must be {LOCATORS}, not 's3:/bucket/key'"),
    ("", f"--device_key must be {LOCATORS}, not ''"),
    (KEY.hex(), f"--device_key must be {LOCATORS}, not the key itself: pass where it is, never "
                "the key"),
    ("ssm:/stedi/device-id-key", "not the ARN of an SSM parameter: '/stedi/device-id-key'; pass "
                                 "ssm:arn:aws:ssm:<region>:<account>:parameter/<name>"),
    ("s3://bucket", "not the URL of an S3 object: 's3://bucket'; pass s3://<bucket>/<object>"),
    ("s3://bucket/folder/", "not the URL of an S3 object: 's3://bucket/folder/'; pass "
                            "s3://<bucket>/<object>"),
])
def test_device_key_locator_must_name_an_ssm_parameter_an_s3_object_or_a_file(locator, refusal):
    """Refused before any AWS call, in one line naming what to pass; never echoing a key."""
    with pytest.raises(ML_JOB.DeviceKeyError) as raised:
        ML_JOB.read_device_key(locator)
    assert str(raised.value) == f'{refusal} (docs/glue-studio.md, "The device-id key")'


# --- what every script shares --------------------------------------------------------------------

def test_job_arguments_default_and_validate():
    args = job_plumbing.resolve_arguments(["job.py", "--JOB_NAME", "j", "--lake_root", "/lake/"])
    ours = {name: args[name] for name in
            ("JOB_NAME", "lake_root", "database", "consent_mode", "ml_match")}
    assert ours == {"JOB_NAME": "j", "lake_root": "/lake", **pipeline.job_options()}
    with pytest.raises(ValueError, match="--ml_match must be one of device, timestamp"):
        job_plumbing.resolve_arguments(["job.py", "--JOB_NAME", "j", "--lake_root", "/l",
                                        "--ml_match", "fuzzy"])


@pytest.mark.parametrize("job", pipeline.JOBS, ids=lambda j: j.name)
def test_script_is_what_make_glue_scripts_writes(job):
    """The shared blocks are edited in glue_jobs/shared/; a script edited between its markers,
    or not regenerated after a shared module changed, fails here."""
    committed = (REPO_ROOT / job.script).read_text()
    assert render_script(committed, shared_blocks(), job.script) == committed, (
        f"{job.script} is not what its shared blocks generate: run `make glue-scripts`")


@pytest.mark.parametrize("job", pipeline.JOBS, ids=lambda j: j.name)
def test_script_carries_only_the_shared_code_it_uses(job):
    """Each script gets only the blocks it uses: every name a block defines is used by the
    script, and the landing reader is in exactly the jobs that read a landing table."""
    text = (REPO_ROOT / job.script).read_text()
    tree = ast.parse(text)
    read = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    blocks = shared_blocks()
    carried = [name for name in blocks if f"# --- shared block {name}:" in text]
    for name in carried:
        defined = {node.name if not isinstance(node, ast.Assign) else node.targets[0].id
                   for node in ast.parse(blocks[name].body).body
                   if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Assign))}
        assert defined <= read, f"{job.script} carries unused {sorted(defined - read)}"
    reads_landing = any(pipeline.table(name).is_landing for name in job.inputs)
    assert ("landing_reader" in carried) == reads_landing


@pytest.mark.parametrize("job", pipeline.JOBS, ids=lambda j: j.name)
def test_script_declares_the_tables_of_the_pipeline_definition(job):
    module = load_job_module(job.name)
    assert module.SOURCES == {name: pipeline.table(name).path for name in job.inputs}
    assert module.TARGET == {job.output: pipeline.table(job.output).path}


@pytest.mark.parametrize("job", pipeline.JOBS, ids=lambda j: j.name)
def test_script_appends_its_gates_results_where_the_catalog_table_reads_them(job):
    assert load_job_module(job.name).RESULTS_PATH == pipeline.DATA_QUALITY_TABLE.path


@pytest.mark.parametrize("source", pipeline.SOURCES)
def test_script_landing_schema_and_key_fields_equal_the_pipeline_definition(source):
    """The scripts keep their own copies (they upload alone); these must not drift."""
    module = load_job_module(pipeline.landing_job(source).name)
    prefix = source.upper()
    schema = getattr(module, f"{prefix}_LANDING_SCHEMA")
    assert {f.name: f.dataType.simpleString() for f in schema.fields} == \
        pipeline.LANDING_SCHEMAS[source]
    assert [f.name for f in schema.fields] == list(pipeline.LANDING_SCHEMAS[source])
    assert sorted(getattr(module, f"{prefix}_LANDING_KEY_FIELDS")) == sorted(
        pipeline.KEY_FIELDS[source])


@pytest.mark.parametrize("source", pipeline.SOURCES)
def test_script_writes_its_accounting_where_the_runner_reads_it(source):
    module = load_job_module(pipeline.landing_job(source).name)
    assert module.ACCOUNTING == pipeline.accounting_path(source)


# What a Glue job has without --additional-python-modules: Glue's libraries and Python's, and
# boto3 with its botocore, which Glue provides every Python job (its table of "Python modules
# already provided"). Only the device-key reader imports them, inside the functions that read
# the key from SSM or S3.
# awsgluedq: Glue Data Quality, in every Glue version the jobs run on.
ALLOWED_IMPORT_ROOTS = ({"awsglue", "awsgluedq", "pyspark", "boto3", "botocore"}
                        | set(sys.stdlib_module_names))


@pytest.mark.parametrize("job", pipeline.JOBS, ids=lambda j: j.name)
def test_script_imports_only_what_glue_provides(job):
    tree = ast.parse((REPO_ROOT / job.script).read_text())
    roots = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
             for alias in node.names}
    roots |= {node.module.split(".")[0] for node in ast.walk(tree)
              if isinstance(node, ast.ImportFrom)}
    assert roots <= ALLOWED_IMPORT_ROOTS
