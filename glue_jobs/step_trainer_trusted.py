"""Step trainer landing -> trusted (AWS Glue job: Glue 5.0, 5.1, 6.0 and 6.1).

step_trainer_trusted, grain: one row per distinct reading (sensorReadingTime, serialNumber,
distanceFromObject). Keeps the readings of devices that belong to a customer in customer_curated
(consenting customers with phone data); with --consent_mode since_consent only readings taken at
or after the consent date of such an owner. Exact duplicate rows are removed. Step trainer
columns only; ownership is an existence test, so a serial number shared by several customers
never multiplies readings.

Lines of the landing zone that are not JSON objects of the schema go to step_trainer/quarantine.

Arguments: --JOB_NAME --lake_root [--database stedi] [--consent_mode registered|since_consent]
[--ml_match device|timestamp].
"""

import datetime
import json
import sys

from awsglue.context import GlueContext
from awsglue.dynamicframe import DynamicFrame
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from awsgluedq.transforms import EvaluateDataQuality
from pyspark.context import SparkContext
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql.functions import (array, coalesce, col, lit, monotonically_increasing_id,
                                   octet_length, posexplode, regexp_replace, split, substring_index,
                                   when)
from pyspark.sql.functions import max as max_
from pyspark.sql.functions import min as min_
from pyspark.sql.functions import sum as sum_
from pyspark.sql.types import (DataType, DoubleType, IntegerType, LongType, StringType, StructField,
                               StructType)

SOURCES = {"step_trainer_landing": "step_trainer/landing",
           "customer_curated": "customer/curated"}
TARGET = {"step_trainer_trusted": "step_trainer/trusted"}
QUARANTINE = "step_trainer/quarantine"
# The record accounting of the landing zone (accepted, quarantined), beside the quarantine.
ACCOUNTING = "step_trainer/landing_accounting.json"

STEP_TRAINER_LANDING_SCHEMA = StructType([
    StructField("sensorReadingTime", LongType()),
    StructField("serialNumber", StringType()),
    StructField("distanceFromObject", IntegerType()),
])
# A record without these cannot be joined: it is quarantined.
STEP_TRAINER_LANDING_KEY_FIELDS = ["serialNumber", "sensorReadingTime"]
# The columns this job reads from each upstream zone, with their types: zones are read with
# this schema, never one inferred from their files (an empty zone may have none).
ZONE_SCHEMAS = {"customer_curated": StructType([
    StructField("serialNumber", StringType()),
    StructField("shareWithResearchAsOfDate", LongType()),
])}

STEP_TRAINER_TRUSTED_SQL = """
with readings as (
    select * from {step_trainer_landing}
),

device_owners as (
    select serialNumber, shareWithResearchAsOfDate as consented_at
    from {customer_curated}
),

owned_readings as (
    select readings.sensorReadingTime, readings.serialNumber, readings.distanceFromObject
    from readings
    left semi join device_owners
        on readings.serialNumber = device_owners.serialNumber
        and (not :since_consent or readings.sensorReadingTime >= device_owners.consented_at)
),

final as (
    select distinct sensorReadingTime, serialNumber, distanceFromObject
    from owned_readings
)

select * from final
"""


def extract_landing(spark: SparkSession, lake_root: str) -> tuple[DataFrame, DataFrame]:
    """(step trainer landing rows, quarantined landing records)."""
    return read_landing(spark, f"{lake_root}/{SOURCES['step_trainer_landing']}",
                        STEP_TRAINER_LANDING_SCHEMA, STEP_TRAINER_LANDING_KEY_FIELDS)


def extract(glue_context: GlueContext, lake_root: str) -> tuple[DataFrame, DataFrame, DataFrame]:
    """(step trainer landing rows, quarantined landing records, customer_curated)."""
    return (*extract_landing(glue_context.spark_session, lake_root),
            read_zone(glue_context, lake_root, "customer_curated", SOURCES["customer_curated"],
                      ZONE_SCHEMAS["customer_curated"]))


def transform(step_trainer_landing: DataFrame, customer_curated: DataFrame,
              consent_mode: str = "registered") -> DataFrame:
    """step_trainer_trusted: distinct readings of curated customers' devices."""
    require_columns(step_trainer_landing, "step_trainer_landing",
                    STEP_TRAINER_LANDING_SCHEMA.fieldNames())
    require_columns(customer_curated, "customer_curated",
                    ZONE_SCHEMAS["customer_curated"].fieldNames())
    return step_trainer_landing.sparkSession.sql(
        STEP_TRAINER_TRUSTED_SQL,
        args={"since_consent": consent_mode == "since_consent"},
        step_trainer_landing=step_trainer_landing,
        customer_curated=customer_curated,
    )


def main() -> None:
    args = resolve_arguments(sys.argv)
    glue_context = GlueContext(SparkContext.getOrCreate())
    set_session_settings(glue_context.spark_session)
    job = Job(glue_context)
    job.init(args["JOB_NAME"], args)

    step_trainer_landing, quarantined, customer_curated = extract(glue_context,
                                                                  args["lake_root"])
    # The gates first: a failed one stops the job before anything published is replaced.
    gate_landing(glue_context, args, "step_trainer_landing", step_trainer_landing, quarantined)
    [(table_name, relative_path)] = TARGET.items()
    step_trainer_trusted = gate_table(
        glue_context, args, table_name, relative_path,
        transform(step_trainer_landing, customer_curated, args["consent_mode"]),
        ["sensorReadingTime", "serialNumber", "distanceFromObject"])
    accounting = load_quarantine(glue_context, step_trainer_landing, quarantined, args["lake_root"],
                                 QUARANTINE)
    write_accounting(glue_context, f"{args['lake_root']}/{ACCOUNTING}",
                     {"source": "step_trainer", **accounting})
    load(glue_context, step_trainer_trusted, args["lake_root"], args["database"], table_name,
         relative_path)
    job.commit()


# --- shared block job_plumbing: edit glue_jobs/shared/job_plumbing.py, then `make glue-scripts`
# With the data-quality gates' (glue_jobs/shared/quality_gate.py; docs/design.md,
# "Data-quality gates").
OPTIONAL_ARGUMENTS = {"database": "stedi", "consent_mode": "registered", "ml_match": "device",
                      "dq_history": "3", "dq_min_ratio": "0.5", "dq_max_ratio": "2",
                      "dq_max_reject_rate": "0.5", "dq_override": "false"}
ALLOWED_VALUES = {"consent_mode": ("registered", "since_consent"),
                  "ml_match": ("device", "timestamp"),
                  "dq_override": ("true", "false")}


class MissingColumnsError(ValueError):
    """An input of the job lacks columns that the job needs."""


def require_columns(frame: DataFrame, frame_name: str, columns: list[str]) -> None:
    missing = [name for name in columns if name not in frame.columns]
    if missing:
        raise MissingColumnsError(f"{frame_name} is missing columns: {', '.join(missing)}")


def resolve_arguments(argv: list[str]) -> dict[str, str]:
    """Job arguments with defaults. Glue's getResolvedOptions insists on every option it is
    asked for, so the optional ones are asked for only when they were given."""
    given = [name for name in OPTIONAL_ARGUMENTS if f"--{name}" in argv]
    args = {**OPTIONAL_ARGUMENTS, **getResolvedOptions(argv, ["JOB_NAME", "lake_root", *given])}
    for name, allowed in ALLOWED_VALUES.items():
        if args[name] not in allowed:
            raise ValueError(f"--{name} must be one of {', '.join(allowed)}, not {args[name]!r}")
    args["lake_root"] = args["lake_root"].rstrip("/")
    return args


def hadoop_file(glue_context: GlueContext, location: str):
    """(Hadoop path, file system) of a single file of the lake.

    Hadoop's file system API reaches S3 and local disk alike, through the session's own
    configuration and credentials, so the jobs need no AWS SDK for their small files.
    """
    spark_context = glue_context.spark_session.sparkContext
    path = spark_context._jvm.org.apache.hadoop.fs.Path(location)
    return path, path.getFileSystem(spark_context._jsc.hadoopConfiguration())


def zone_marker(glue_context: GlueContext, lake_root: str, table_name: str):
    """(Hadoop path, file system) of the marker saying a table's zone is being rewritten.

    Markers live outside the zones, so Athena and the purge never see them.
    """
    return hadoop_file(glue_context, f"{lake_root}/_incomplete/{table_name}")


def load(glue_context: GlueContext, frame: DataFrame, lake_root: str, database: str,
         table_name: str, relative_path: str) -> None:
    """Replace the table's files and update its catalog entry.

    The purge comes first so that a re-run never duplicates rows (retentionPeriod 0: Glue's
    default keeps files of the past week). From the purge until the catalog update the zone is
    marked incomplete; a failure in between leaves the mark, and later jobs refuse to read it.
    """
    path = f"{lake_root}/{relative_path}/"
    marker, file_system = zone_marker(glue_context, lake_root, table_name)
    file_system.create(marker, True).close()
    glue_context.purge_s3_path(path, options={"retentionPeriod": 0})
    sink = glue_context.getSink(connection_type="s3", path=path, enableUpdateCatalog=True,
                                updateBehavior="UPDATE_IN_DATABASE", partitionKeys=[])
    sink.setCatalogInfo(catalogDatabase=database, catalogTableName=table_name)
    sink.setFormat("glueparquet", compression="snappy")
    sink.writeFrame(DynamicFrame.fromDF(frame, glue_context, table_name))
    file_system.delete(marker, False)
# --- end of shared block job_plumbing


# --- shared block zone_reader: edit glue_jobs/shared/zone_reader.py, then `make glue-scripts`
class IncompleteZoneError(RuntimeError):
    """An input zone was left half-written by a job that failed."""


def read_zone(glue_context: GlueContext, lake_root: str, table_name: str, relative_path: str,
              schema: StructType) -> DataFrame:
    """The columns of ``schema`` from an upstream zone written by another job of this pipeline
    (Snappy Parquet); refused while the job writing it has not finished, so a failure never
    passes on a half-written zone.

    Read with the schema given, never one inferred from the files: Glue's writer may write no
    file at all for an empty frame (and S3 has no folders), so an empty zone is still a table
    with its columns, of 0 rows.
    """
    marker, file_system = zone_marker(glue_context, lake_root, table_name)
    if file_system.exists(marker):
        raise IncompleteZoneError(f"{table_name} is incomplete: the job writing it failed "
                                  "mid-way; run that job again first")
    location = f"{lake_root}/{relative_path}/"
    spark = glue_context.spark_session
    folder, file_system = hadoop_file(glue_context, location)
    if not file_system.exists(folder):
        return spark.createDataFrame([], schema)
    return spark.read.schema(schema).option("recursiveFileLookup", "true").parquet(location)
# --- end of shared block zone_reader


# --- shared block landing_reader: edit glue_jobs/shared/landing_reader.py, then `make glue-scripts`
BACK_TO_BACK_OBJECTS = r"(?<=\})\s*,?\s*(?=\{)"
TRAILING_COMMA = r",\s*$"
SURROUNDING_WHITESPACE = r"^\s+|\s+$"
# \A and \z: Java's $ would also match before a final line break inside a JSON string.
INTEGER_TEXT = r"\A-?[0-9]+\z"
DECIMAL_TEXT = r"\A[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\z"
# Strict JSON, as a JSON SerDe reads it (Spark would also take 'single quotes').
STRICT_JSON = {"allowSingleQuotes": "false"}
# The fast path's parse is stricter still: NaN and Infinity, bare or quoted, fail it, so that a
# record holding one takes the careful path, which judges them.
FAST_PATH_JSON = {**STRICT_JSON, "allowNonNumericNumbers": "false"}
# Session settings the reader relies on. They change the whole session, so each landing job sets
# them itself, where it starts (set_session_settings), and the reader only checks them.
LANDING_SESSION_SETTINGS = {
    # Exact duplicate names in one object: the last value wins, as in most JSON readers (Spark's
    # default, EXCEPTION, would fail the whole job on one such record).
    "spark.sql.mapKeyDedupPolicy": "LAST_WIN",
}


class SessionSettingsError(RuntimeError):
    """The Spark session lacks settings that the landing reader relies on."""


def set_session_settings(spark: SparkSession) -> None:
    """Apply LANDING_SESSION_SETTINGS to the job's session."""
    for key, value in LANDING_SESSION_SETTINGS.items():
        spark.conf.set(key, value)


def require_session_settings(spark: SparkSession) -> None:
    """Raise SessionSettingsError naming every LANDING_SESSION_SETTINGS entry not in force."""
    wrong = [f"{key}={value}" for key, value in LANDING_SESSION_SETTINGS.items()
             if str(spark.conf.get(key, None)).upper() != value]
    if wrong:
        raise SessionSettingsError(f"the Spark session needs {', '.join(wrong)}: call "
                                   "set_session_settings(spark) where the job starts")


def whole_object(text: Column) -> Column:
    """The text starts with '{' and its only '}' is its last character: if it parses, it is one
    object and nothing else, so it needs no cleaning, no splitting and no brackets. Most lines
    are like this. Measured in bytes, which is exact because '}' never occurs inside a multibyte
    character, and cheaper than counting characters."""
    return text.startswith("{") & (
        octet_length(substring_index(text, "}", 1)) == octet_length(text) - 1)


def landing_lines(spark: SparkSession, path: str) -> DataFrame:
    """One row per line of every file under ``path``: its text, file, block of the file, a
    number (row_id) and whether the line is a whole object (see whole_object).

    Both the checks and the line numbers of rejected records are taken from this one frame, so
    that they see the same listing of the files, and so the same row_id for every line.
    """
    return (spark.read.option("recursiveFileLookup", "true").text(path)
            .select(col("value").alias("line"),
                    col("_metadata.file_path").alias("source_file"),
                    col("_metadata.file_block_start").alias("block_start"),
                    monotonically_increasing_id().alias("row_id"))
            .withColumn("whole", whole_object(col("line"))))


def landing_fragments(lines: DataFrame) -> DataFrame:
    """One row per record (a JSON object, or what stands where one should be), plus one row
    with empty text per blank line.

    A line may hold several objects written back to back, and may end in a comma. Each row
    keeps its file, its place in the file, its text, and whether that text is a whole object
    (false when unsure).
    """
    line = col("line")
    # The regexes cost more than parsing the JSON, so a whole-object line skips them.
    cleaned = regexp_replace(regexp_replace(line, SURROUNDING_WHITESPACE, ""), TRAILING_COMMA, "")
    objects = when(col("whole"), array(line)).otherwise(split(cleaned, BACK_TO_BACK_OBJECTS))
    return lines.select("source_file", "block_start", "row_id",
                        posexplode(objects).alias("object_index", "text"),
                        # A fragment of a split line may be whole too; it takes the slow path.
                        "whole")


# --- The checks, as Spark SQL text ---------------------------------------------------------------
# Each projection below is one selectExpr: a single call into the JVM, which parses the text.
# Built with the Column API, the same checks took some 13,000 calls from Python to the JVM per
# landing job, over a second of every job's time even on small data.

def sql_string(value: str) -> str:
    """``value`` as a Spark SQL string literal (backslashes and quotes escaped)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def sql_name(name: str) -> str:
    return f"`{name}`"


def sql_options(options: dict[str, str]) -> str:
    """A JSON options map for from_json."""
    return "map(" + ", ".join(f"{sql_string(k)}, {sql_string(v)}" for k, v in options.items()) + ")"


def colon_count(text: str) -> str:
    """How many ':' the text holds, counted in bytes (':' is never part of a multibyte
    character). replace works on the bytes; translate, which decodes every character, costs
    five times as much."""
    return f"octet_length({text}) - octet_length(replace({text}, ':', ''))"


def is_infinite(value: str) -> str:
    return f"{value} in (double('Infinity'), double('-Infinity'))"


def fast_verdict(lines: DataFrame, schema: StructType, key_fields: list[str]) -> DataFrame:
    """Adds ``_fast`` (the line parsed into the schema's struct) and ``_fast_ok``: true only
    where the full rules of check_records are known to accept the line as one record with
    exactly those values, so that it can skip them.

    A line passes when it is one whole object (whole_object), every key field parsed
    non-null, every number that parsed is finite, and the text holds no more ':' than fields
    parsed. The parse matches names exactly, so each parsed field stands for at least one name;
    every name is followed by a ':'; so the names are exactly the parsed fields, each once: no
    unknown name, no repeat, no other spelling. A ':' inside a string value only sends a record
    the careful way. A value of the wrong type parses as null (or nulls the record), and then
    the ':' outnumber the fields. Where a value parses, it is the value the careful path would
    find: both use Spark's JSON parser, and the careful path's text of a number converts back
    to the same number.
    """
    parsed = lines.selectExpr(
        "*", f"case when whole then from_json(line, {sql_string(schema.simpleString())}, "
             f"{sql_options(FAST_PATH_JSON)}) end as _fast")
    fields = {f.name: f"_fast.{sql_name(f.name)}" for f in schema.fields}
    parsed_fields = " + ".join(f"cast({value} is not null as int)" for value in fields.values())
    passes = " and ".join([
        "whole",
        *[f"{fields[name]} is not null" for name in key_fields],
        *[f"coalesce(not ({is_infinite(fields[f.name])} or isnan({fields[f.name]})), true)"
          for f in schema.fields if isinstance(f.dataType, DoubleType)],
        f"{colon_count('line')} <= {parsed_fields}",
    ])
    return parsed.selectExpr("*", f"coalesce({passes}, false) as _fast_ok")


def typed_field(text: str, value: str, field: StructField) -> tuple[str, str]:
    """(typed value, value present but of the wrong type) of one schema field, given its text
    and that text cast to the field's type.

    A number as JSON writers print it (its value cast back to text is the text itself) is valid
    without the regex, which costs more than the rest of the check; any other text is judged
    by the regex. Both ways accept exactly the same texts.
    """
    printed_as_json = f"cast({value} as string) = {text}"
    if isinstance(field.dataType, (LongType, IntegerType)):
        valid = (f"case when {printed_as_json} then true "
                 f"else {text} rlike {sql_string(INTEGER_TEXT)} and {value} is not null end")
    elif isinstance(field.dataType, DoubleType):
        valid = (f"case when {printed_as_json} and not {is_infinite(value)} "
                 f"and not isnan({value}) then true "
                 f"else {text} rlike {sql_string(DECIMAL_TEXT)} and not {is_infinite(value)} end")
    else:
        return text, "false"
    return f"case when {valid} then {value} end", f"{text} is not null and not ({valid})"


def try_cast(text: str, data_type: DataType) -> str:
    """The text converted to ``data_type``, null where it does not convert.

    SQL's try_cast, which Spark 3.5 and 4.x both have: a plain cast fails the whole job on the
    first bad value when ANSI mode is on (the default from Spark 4, so from Glue 6.0), where the
    landing rules must quarantine the record instead. The text is judged by typed_field.
    """
    return f"try_cast({text} as {data_type.simpleString()})"


def names_where(flags: list[tuple[str, str]]) -> str:
    """The names whose flag is true, comma-separated ('' when none); concat_ws skips nulls."""
    return "concat_ws(', ', " + ", ".join(
        f"case when {flag} then {sql_string(name)} end" for name, flag in flags) + ")"


def lowercase_keys(keys: str) -> str:
    """The keys in lowercase. Joined, lowered and split again: a lambda (transform) would make
    Spark evaluate every record through its interpreter instead of generated code. chr(1)
    cannot occur in a field name of these sources."""
    return f"split(lower(array_join({keys}, chr(1))), chr(1))"


def spelled_as_in_schema(fields: str, schema: StructType) -> str:
    """Every name of the object is a schema field's name exactly, and occurs once (from_json
    keeps repeated names in a map)."""
    present = " + ".join(f"cast(map_contains_key({fields}, {sql_string(name)}) as int)"
                         for name in schema.fieldNames())
    return f"coalesce(size({fields}) = {present}, false)"


def check_records(records: DataFrame, schema: StructType, key_fields: list[str]) -> DataFrame:
    """Adds the schema's typed columns and the reason a record is rejected (null: accepted) to
    the records of landing_fragments.

    These are the full rules; read_landing applies them to the lines that fast_verdict leaves
    (a few, on clean data). Field names match case-insensitively, as Athena's JSON SerDes match
    them. Rules in order: one whole JSON object; no two field names equal but for case; every
    value of its field's type; every key field present. Each step is its own projection so that
    the JSON is parsed once per record (Spark does not share one expression between the
    branches of a CASE), and no step uses a lambda, which Spark cannot compile. The common case
    takes the cheap branch of each step: a whole object, names spelled as in the schema,
    numbers as JSON prints them.
    """
    maps = sql_string("map<string,string>")
    options = sql_options(STRICT_JSON)
    # Wrapped in brackets, a text parses only if it is whole: from_json alone would read the
    # first object of '{...} xyz' and ignore the rest.
    bracketed = records.selectExpr(
        "*", f"case when not whole then from_json(concat('[', text, ']'), "
             f"{sql_string('array<map<string,string>>')}, {options}) end as _objects")
    single = bracketed.selectExpr(
        "*", f"case when whole then from_json(text, {maps}, {options}) "
             "when size(_objects) = 1 then _objects[0] end as _object")
    exact = single.selectExpr("*", f"{spelled_as_in_schema('_object', schema)} as _exact")
    # Otherwise names are folded to lowercase; a map keyed by them finds every spelling.
    keyed = exact.selectExpr("*", "case when not _exact then map_keys(_object) end as _names")
    folded = keyed.selectExpr("*", f"{lowercase_keys('_names')} as _lower_names")
    named = folded.selectExpr(
        "*",
        "case when size(_names) > 0 then map_from_arrays(_lower_names, map_values(_object)) end"
        " as _folded",
        "coalesce(size(array_distinct(_lower_names)) < size(array_distinct(_names)), false)"
        " as _case_duplicates")
    texts = named.selectExpr("*", *[
        f"case when _exact then _object[{sql_string(f.name)}] "
        f"else _folded[{sql_string(f.name.lower())}] end as {sql_name('_text_' + f.name)}"
        for f in schema.fields])
    values = texts.selectExpr("*", *[
        (try_cast(sql_name(f"_text_{f.name}"), f.dataType) if f.dataType != StringType()
         else sql_name(f"_text_{f.name}")) + f" as {sql_name('_value_' + f.name)}"
        for f in schema.fields])
    typed = {f.name: typed_field(sql_name(f"_text_{f.name}"), sql_name(f"_value_{f.name}"), f)
             for f in schema.fields}
    valued = values.selectExpr(
        "*", *[f"{value} as {sql_name(name)}" for name, (value, _) in typed.items()],
        f"{names_where([(name, wrong) for name, (_, wrong) in typed.items()])} as _wrong_types")
    missing_keys = names_where([(name, f"{sql_name(name)} is null")
                                for name in schema.fieldNames() if name in key_fields])
    reason = ("case when _object is null and startswith(text, '{') "
              "and not endswith(text, '}') then 'truncated object' "
              "when _object is null then 'malformed JSON' "
              "when _case_duplicates then 'duplicate field' "
              "when _wrong_types != '' then concat('wrong type: ', _wrong_types) "
              f"when {missing_keys} != '' then concat('missing key field: ', {missing_keys}) end")
    return valued.selectExpr(*[sql_name(name) for name in records.columns],
                             *[sql_name(name) for name in schema.fieldNames()],
                             f"{reason} as reason")


def line_numbers(lines: DataFrame) -> DataFrame:
    """(source_file, block_start, first_row_id, lines_before) for every block of every file.

    monotonically_increasing_id numbers the lines of one file block consecutively, so a line's
    number is the count of lines in the file's earlier blocks plus its place in its block. Only
    one row per block is aggregated and ordered; the lines themselves are never sorted.
    """
    blocks = lines.groupBy("source_file", "block_start").agg(
        min_("row_id").alias("first_row_id"), max_("row_id").alias("last_row_id"))
    earlier = Window.partitionBy("source_file").orderBy("block_start").rowsBetween(
        Window.unboundedPreceding, -1)
    return blocks.select("source_file", "block_start", "first_row_id",
                         coalesce(sum_(col("last_row_id") - col("first_row_id") + 1)
                                  .over(earlier), lit(0)).alias("lines_before"))


def read_landing(spark: SparkSession, path: str, schema: StructType,
                 key_fields: list[str]) -> tuple[DataFrame, DataFrame]:
    """(accepted rows of the schema, quarantined records): every record is on exactly one side.

    Quarantined records keep their text, file, line number, place on the line and reason.

    Every line takes the fast path (fast_verdict), and the lines it does not accept are split
    into records and checked by the full rules (check_records). The verdicts of the fast path
    are cached, because the accepted rows are read twice (counted, then written): an accepted
    line keeps only its typed values there, any other line only its text and place, which
    keeps the cache small and quick to build. The full rules then run on those few lines
    alone. The line numbers of rejected records come from a second read of the lines, which
    needs no parse and runs only when some record is rejected.
    """
    require_session_settings(spark)
    lines = landing_lines(spark, path)
    fields = [sql_name(name) for name in schema.fieldNames()]
    place = ["source_file", "block_start", "row_id", "line"]
    verdicts = fast_verdict(lines, schema, key_fields).selectExpr(
        "_fast_ok", *[f"_fast.{field} as {field}" for field in fields],
        *[f"case when not _fast_ok then {name} end as {name}" for name in place],
    ).cache()
    other_lines = verdicts.where(~col("_fast_ok")).select(
        *place, whole_object(col("line")).alias("whole"))
    # Cached too: read three times, and a barrier, without which the optimizer would push the
    # filters below into the rules' projections and copy their expressions (minutes of planning).
    checked = check_records(landing_fragments(other_lines), schema, key_fields).cache()
    records = checked.where(col("text") != "")  # a blank line holds no record
    accepted = (verdicts.where(col("_fast_ok")).select(*schema.fieldNames())
                .unionByName(records.where(col("reason").isNull()).select(*schema.fieldNames())))
    rejected = records.where(col("reason").isNotNull())
    # This count builds the cache. Without rejected records, no line needs a number.
    numbers = (line_numbers(lines) if rejected.count() else
               spark.createDataFrame([], "source_file string, block_start bigint, "
                                         "first_row_id bigint, lines_before bigint"))
    quarantined = (rejected.join(numbers, ["source_file", "block_start"])
                   .select(col("text").alias("record"), "source_file",
                           (col("lines_before") + col("row_id") - col("first_row_id") + 1)
                           .alias("line_number"),
                           "object_index", "reason"))
    return accepted, quarantined


def load_quarantine(glue_context: GlueContext, accepted: DataFrame, quarantined: DataFrame,
                    lake_root: str, relative_path: str) -> dict[str, int]:
    """Rejected records as JSON lines with their reason, replaced on every run like the zones.
    Returns the source's record accounting: accepted and quarantined records."""
    path = f"{lake_root}/{relative_path}/"
    glue_context.purge_s3_path(path, options={"retentionPeriod": 0})
    # Kept after counting, so that writing them does not number their lines a second time;
    # they are the few rejected records only.
    quarantined = quarantined.persist()
    rejected = quarantined.count()
    if rejected:
        quarantined.write.mode("append").json(path)
    quarantined.unpersist()
    return {"accepted": accepted.count(), "quarantined": rejected}


def write_accounting(glue_context: GlueContext, location: str, accounting: dict) -> None:
    """The source's record accounting as a small JSON file beside its quarantine folder, which
    the local runner, `make check` and deploy read, and as a line of the job log (CloudWatch on
    AWS). Written through Hadoop's file system API, so it lands on S3 as on local disk."""
    text = json.dumps(accounting, sort_keys=True)
    path, file_system = hadoop_file(glue_context, location)
    stream = file_system.create(path, True)
    try:
        stream.write(bytearray(text.encode("utf-8")))
    finally:
        stream.close()
    glue_context.get_logger().info(f"landing records: {text}")
# --- end of shared block landing_reader


# --- shared block quality_gate: edit glue_jobs/shared/quality_gate.py, then `make glue-scripts`
# The gates' job arguments and their defaults are job_plumbing's OPTIONAL_ARGUMENTS: dq_history
# (the earlier runs a dynamic rule averages), dq_min_ratio and dq_max_ratio (how far a table may
# shrink or grow against them), dq_max_reject_rate (the share of landing records that may be
# quarantined) and dq_override ("true": publish what fails, and log it).


# Every gate's rule results are appended under the lake root here: the catalog table
# data_quality_results (athena_ddl/data_quality_results.sql), queried in Athena and by make query.
RESULTS_PATH = "data_quality/results"
RESULTS_SCHEMA = ("evaluated_at timestamp, job_name string, job_run_id string, "
                  "evaluation_context string, rule string, outcome string, failure_reason string, "
                  "evaluated_metrics map<string,double>, dq_override boolean")


class DataQualityGateError(RuntimeError):
    """Data that fails its gate: nothing was published."""


def number_argument(args: dict[str, str], name: str) -> str:
    """A gate argument as a DQDL number (digits, one point), or ValueError naming it."""
    text = args[name].strip()
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value < 0 or not text.replace(".", "", 1).isdigit():
        raise ValueError(f"--{name} must be a number of 0 or more, not {args[name]!r}")
    return text


def row_count_rules(args: dict[str, str]) -> list[str]:
    """The rows against the recent history. With no history DQDL's last(k) is 0.0, which no
    row count stays under, and DQDL has no test of "no history yet": the growth rule passes
    too when ColumnCount > max(last(1)), which a table's fixed columns meet on its first
    evaluation only."""
    recent = f"avg(last({int(number_argument(args, 'dq_history'))}))"
    return [f"RowCount >= {recent} * {number_argument(args, 'dq_min_ratio')}",
            f"(RowCount <= {recent} * {number_argument(args, 'dq_max_ratio')}) or "
            "(ColumnCount > max(last(1)))"]


def table_rules(key_columns: list[str], columns: list[str], args: dict[str, str]) -> list[str]:
    """Of a table about to be published (its ``columns``): its grain unique where it has a key
    (a table of no rows has no duplicate), and its row count. A key is also complete
    (IsPrimaryKey), unless it is every column: the grain is then the distinct rows, of readings
    that may lack a measured value (a null x), so the rows must be unique (Uniqueness, which
    like Glue's leaves out the rows with a null among the columns), not complete."""
    quoted = " ".join(f'"{name}"' for name in key_columns)
    distinct_rows = sorted(key_columns) == sorted(columns)
    grain = f"Uniqueness {quoted} = 1.0" if distinct_rows else f"IsPrimaryKey {quoted}"
    key_rule = [f"({grain}) or (RowCount = 0)"] if key_columns else []
    return key_rule + row_count_rules(args)


def measured(failure_reason: str) -> str:
    """Glue's failure reason, short: "measured 0.0" of "Value: 0.0 does not meet the
    constraint requirement!"; other reasons (a missing column) as they are."""
    prefix, _, rest = failure_reason.partition("Value: ")
    if prefix or " does not meet" not in rest:
        return failure_reason
    return f"measured {rest.split(' does not meet')[0]}"


def record_results(glue_context: GlueContext, args: dict[str, str], context: str,
                   results: list[dict]) -> None:
    """Append an evaluation's rule results to data_quality_results, one small Parquet file per
    evaluation. Written before the gate acts on them, so that a stopped run's reasons are there
    for Athena as much as a green run's; the rows come from the collected results, so the
    evaluation runs once."""
    evaluated_at = datetime.datetime.now(datetime.timezone.utc)
    rows = [(evaluated_at, args["JOB_NAME"], args.get("JOB_RUN_ID"), context, result["Rule"],
             result["Outcome"], result["FailureReason"], result["EvaluatedMetrics"],
             args["dq_override"] == "true") for result in results]
    spark = glue_context.spark_session
    spark.createDataFrame(rows, RESULTS_SCHEMA).coalesce(1).write.mode("append").parquet(
        f"{args['lake_root']}/{RESULTS_PATH}/")


def check_gate(glue_context: GlueContext, frame: DataFrame, context: str, rules: list[str],
               args: dict[str, str]) -> list[dict]:
    """Evaluate the rules on the frame (Glue Data Quality, results under ``context``); raise
    DataQualityGateError naming the failed rules unless --dq_override is true."""
    ruleset = "Rules = [\n    " + ",\n    ".join(rules) + "\n]"
    evaluated = EvaluateDataQuality.apply(
        frame=DynamicFrame.fromDF(frame, glue_context, context), ruleset=ruleset,
        publishing_options={"dataQualityEvaluationContext": context,
                            "enableDataQualityCloudWatchMetrics": True,
                            "enableDataQualityResultsPublishing": True})
    results = [row.asDict() for row in evaluated.toDF().collect()]
    record_results(glue_context, args, context, results)
    logger = glue_context.get_logger()
    failed = [result for result in results if result["Outcome"] != "Passed"]
    for result in results:
        logger.info(f"data quality {context}: {result['Outcome']}: {result['Rule']}"
                    + (f" ({result['FailureReason']})" if result["FailureReason"] else ""))
    if failed and args["dq_override"] != "true":
        reasons = "; ".join(f"{result['Rule']} ({measured(result['FailureReason'])})"
                            for result in failed)
        raise DataQualityGateError(
            f"data-quality gate {context} failed, nothing was published: {reasons}; if the "
            "change is meant, run again with --dq_override true")
    if failed:
        logger.warn(f"data quality {context}: {len(failed)} failed rules overridden "
                    "(--dq_override true): published anyway")
    return results


def gate_table(glue_context: GlueContext, args: dict[str, str], table_name: str,
               relative_path: str, frame: DataFrame, key_columns: list[str]) -> DataFrame:
    """The gate of the table the job is about to publish; returns the frame, kept for the
    write. Its history is per option pair: the options change what the table holds."""
    kept = frame.persist()
    rules = table_rules(key_columns, kept.columns, args)
    check_gate(glue_context, kept, f"{args['database']}.{table_name}.{args['consent_mode']}."
                                   f"{args['ml_match']}", rules, args)
    return kept
# --- end of shared block quality_gate


# --- shared block landing_gate: edit glue_jobs/shared/landing_gate.py, then `make glue-scripts`
ACCEPTED_MARK = "accepted_record"


def landing_rules(fields: list[str], args: dict[str, str]) -> list[str]:
    """Of the landing records: the share accepted, each field present in enough of them as in
    recent runs (a renamed or dropped field is in none), and their count."""
    accepted_share = 1 - float(number_argument(args, "dq_max_reject_rate"))
    recent = f"avg(last({int(number_argument(args, 'dq_history'))}))"
    rules = [f'Completeness "{ACCEPTED_MARK}" >= {accepted_share:.6g}']
    rules += [f'Completeness "{name}" >= {recent} * {number_argument(args, "dq_min_ratio")}'
              for name in fields]
    return rules + row_count_rules(args)


def landing_records(accepted: DataFrame, quarantined: DataFrame) -> DataFrame:
    """Every landing record: the accepted with their fields and the mark, the quarantined with
    neither (their fields could not be read)."""
    marked = accepted.withColumn(ACCEPTED_MARK, lit(1))
    unread = quarantined.select(*[lit(None).cast(field.dataType).alias(field.name)
                                  for field in accepted.schema.fields],
                                lit(None).cast("int").alias(ACCEPTED_MARK))
    return marked.unionByName(unread)


def gate_landing(glue_context: GlueContext, args: dict[str, str], table_name: str,
                 accepted: DataFrame, quarantined: DataFrame) -> None:
    """The landing records' gate, before the job rewrites its quarantine."""
    check_gate(glue_context, landing_records(accepted, quarantined),
               f"{args['database']}.{table_name}",
               landing_rules(accepted.columns, args), args)
# --- end of shared block landing_gate


if __name__ == "__main__":
    main()
