"""Step trainer landing -> trusted (AWS Glue 5.0 job).

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

import json
import operator
import sys
from functools import reduce

from awsglue.context import GlueContext
from awsglue.dynamicframe import DynamicFrame
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql.functions import (array, array_distinct, array_join, coalesce, col, concat,
                                   concat_ws, expr, from_json, isnan, lit, lower, map_contains_key,
                                   map_from_arrays, map_keys, map_values,
                                   monotonically_increasing_id, octet_length, posexplode,
                                   regexp_replace, size, split, substring_index, when)
from pyspark.sql.functions import max as max_
from pyspark.sql.functions import min as min_
from pyspark.sql.functions import sum as sum_
from pyspark.sql.types import (ArrayType, DataType, DoubleType, IntegerType, LongType, MapType,
                               StringType, StructField, StructType)

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

# --- shared block job_plumbing: edit glue_jobs/shared/job_plumbing.py, then `make glue-scripts`
OPTIONAL_ARGUMENTS = {"database": "stedi", "consent_mode": "registered", "ml_match": "device"}
ALLOWED_VALUES = {"consent_mode": ("registered", "since_consent"),
                  "ml_match": ("device", "timestamp")}


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
KEY_SEPARATOR = "\u0001"  # cannot occur in a field name of these sources
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


def landing_fragments(spark: SparkSession, path: str) -> DataFrame:
    """One row per record (a JSON object, or what stands where one should be), plus one row
    with empty text per blank line.

    A line may hold several objects written back to back, and may end in a comma. Each row
    keeps its file, its place in the file, its text, and whether that text is a whole object
    (see whole_object; false when unsure).
    """
    lines = (spark.read.option("recursiveFileLookup", "true").text(path)
             .select(col("value").alias("line"),
                     col("_metadata.file_path").alias("source_file"),
                     col("_metadata.file_block_start").alias("block_start"),
                     monotonically_increasing_id().alias("row_id"))
             .withColumn("whole", whole_object(col("line"))))
    line = col("line")
    # The regexes cost more than parsing the JSON, so a whole-object line skips them.
    cleaned = regexp_replace(regexp_replace(line, SURROUNDING_WHITESPACE, ""), TRAILING_COMMA, "")
    objects = when(col("whole"), array(line)).otherwise(split(cleaned, BACK_TO_BACK_OBJECTS))
    return lines.select("source_file", "block_start", "row_id",
                        posexplode(objects).alias("object_index", "text"),
                        # A fragment of a split line may be whole too; it takes the slow path.
                        "whole")


def typed_field(text: Column, value: Column, field: StructField) -> tuple[Column, Column]:
    """(typed value, value present but of the wrong type) of one schema field, given its text
    and that text cast to the field's type.

    A number as JSON writers print it (its value cast back to text is the text itself) is valid
    without the regex, which costs more than the rest of the check; any other text is judged
    by the regex. Both ways accept exactly the same texts.
    """
    if isinstance(field.dataType, (LongType, IntegerType)):
        valid = when(value.cast(StringType()) == text, lit(True)).otherwise(
            text.rlike(INTEGER_TEXT) & value.isNotNull())
    elif isinstance(field.dataType, DoubleType):
        infinite = value.isin(float("inf"), float("-inf"))
        valid = when((value.cast(StringType()) == text) & ~infinite & ~isnan(value),
                     lit(True)).otherwise(text.rlike(DECIMAL_TEXT) & ~infinite)
    else:
        valid = lit(True)
    return when(valid, value), text.isNotNull() & ~valid


def try_cast(column_name: str, data_type: DataType) -> Column:
    """The column converted to ``data_type``, null where its text does not convert.

    SQL's try_cast, which Spark 3.5 and 4.x both have: a plain cast fails the whole job on the
    first bad value when ANSI mode is on (the default from Spark 4, so from Glue 6.0), where the
    landing rules must quarantine the record instead. The text is judged by typed_field.
    """
    return expr(f"try_cast(`{column_name}` as {data_type.simpleString()})")


def names_where(flags: list[tuple[str, Column]]) -> Column:
    """The names whose flag is true, comma-separated ('' when none); concat_ws skips nulls."""
    return concat_ws(", ", *[when(flag, lit(name)) for name, flag in flags])


def lowercase_keys(keys: Column) -> Column:
    """The keys in lowercase. Joined, lowered and split again: a lambda (transform) would make
    Spark evaluate every record through its interpreter instead of generated code."""
    return split(lower(array_join(keys, KEY_SEPARATOR)), KEY_SEPARATOR)


def spelled_as_in_schema(fields: Column, schema: StructType) -> Column:
    """Every name of the object is a schema field's name exactly, and occurs once (from_json
    keeps repeated names in a map)."""
    present = [map_contains_key(fields, name).cast(IntegerType()) for name in schema.fieldNames()]
    return coalesce(size(fields) == reduce(operator.add, present), lit(False))


def check_records(records: DataFrame, schema: StructType, key_fields: list[str]) -> DataFrame:
    """Adds the schema's typed columns and the reason a record is rejected (null: accepted) to
    the records of landing_fragments.

    Field names match case-insensitively, as Athena's JSON SerDes match them. Rules in order:
    one whole JSON object; no two field names equal but for case; every value of its field's
    type; every key field present. Each step is its own projection so that the JSON is parsed
    once per record (Spark does not share one expression between the branches of a CASE), and
    no step uses a lambda, which Spark cannot compile. The common case takes the cheap branch
    of each step: a whole object, names spelled as in the schema, numbers as JSON prints them.
    """
    text = col("text")
    fields_map = MapType(StringType(), StringType())
    # Wrapped in brackets, a text parses only if it is whole: from_json alone would read the
    # first object of '{...} xyz' and ignore the rest.
    bracketed = records.withColumn(
        "_objects", when(~col("whole"), from_json(concat(lit("["), text, lit("]")),
                                                  ArrayType(fields_map), STRICT_JSON)))
    single = bracketed.withColumn("_object", when(
        col("whole"), from_json(text, fields_map, STRICT_JSON))
        .otherwise(when(size("_objects") == 1, col("_objects")[0])))
    exact = single.withColumn("_exact", spelled_as_in_schema(col("_object"), schema))
    # Otherwise names are folded to lowercase; a map keyed by them finds every spelling.
    keyed = exact.withColumn("_names", when(~col("_exact"), map_keys("_object")))
    folded = keyed.withColumn("_lower_names", lowercase_keys(col("_names")))
    named = folded.select(
        "*",
        when(size("_names") > 0, map_from_arrays("_lower_names", map_values("_object")))
        .alias("_folded"),
        coalesce(size(array_distinct("_lower_names")) < size(array_distinct("_names")),
                 lit(False)).alias("_case_duplicates"))
    texts = named.select("*", *[
        when(col("_exact"), col("_object")[f.name]).otherwise(col("_folded")[f.name.lower()])
        .alias(f"_text_{f.name}") for f in schema.fields])
    values = texts.select("*", *[
        (try_cast(f"_text_{f.name}", f.dataType) if f.dataType != StringType()
         else col(f"_text_{f.name}")).alias(f"_value_{f.name}") for f in schema.fields])
    typed = {f.name: typed_field(col(f"_text_{f.name}"), col(f"_value_{f.name}"), f)
             for f in schema.fields}
    valued = values.select("*", *[value.alias(name) for name, (value, _) in typed.items()],
                           names_where([(n, wrong) for n, (_, wrong) in typed.items()])
                           .alias("_wrong_types"))
    missing_keys = names_where([(name, col(name).isNull()) for name in schema.fieldNames()
                                if name in key_fields])
    one_object = col("_object").isNotNull()
    reason = (when(~one_object & text.startswith("{") & ~text.endswith("}"),
                   lit("truncated object"))
              .when(~one_object, lit("malformed JSON"))
              .when(col("_case_duplicates"), lit("duplicate field"))
              .when(col("_wrong_types") != "", concat(lit("wrong type: "), col("_wrong_types")))
              .when(missing_keys != "", concat(lit("missing key field: "), missing_keys)))
    return valued.select(*records.columns, *schema.fieldNames(), reason.alias("reason"))


def line_numbers(checked: DataFrame) -> DataFrame:
    """(source_file, block_start, first_row_id, lines_before) for every block of every file.

    monotonically_increasing_id numbers the lines of one file block consecutively, so a line's
    number is the count of lines in the file's earlier blocks plus its place in its block. Only
    one row per block is aggregated and ordered; the lines themselves are never sorted. Each
    line, blank or not, has exactly one fragment with object_index 0.
    """
    blocks = checked.where(col("object_index") == 0).groupBy("source_file", "block_start").agg(
        min_("row_id").alias("first_row_id"), max_("row_id").alias("last_row_id"))
    earlier = Window.partitionBy("source_file").orderBy("block_start").rowsBetween(
        Window.unboundedPreceding, -1)
    return blocks.select("source_file", "block_start", "first_row_id",
                         coalesce(sum_(col("last_row_id") - col("first_row_id") + 1)
                                  .over(earlier), lit(0)).alias("lines_before"))


def read_landing(spark: SparkSession, path: str, schema: StructType,
                 key_fields: list[str]) -> tuple[DataFrame, DataFrame]:
    """(accepted rows of the schema, quarantined records): every record is on exactly one side.

    Quarantined records keep their text, file, line number, place on the line and reason. The
    checked fragments are cached because both sides and the line numbers read them; only a
    rejected record keeps its text there, which keeps the cache a fraction of the input.
    """
    require_session_settings(spark)
    checked = check_records(landing_fragments(spark, path), schema, key_fields).select(
        "source_file", "block_start", "row_id", "object_index", (col("text") == "").alias("blank"),
        *schema.fieldNames(), "reason", when(col("reason").isNotNull(), col("text")).alias("text"),
    ).cache()
    records = checked.where(~col("blank"))
    accepted = records.where(col("reason").isNull()).select(*schema.fieldNames())
    quarantined = (records.where(col("reason").isNotNull())
                   .join(line_numbers(checked), ["source_file", "block_start"])
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
    accounting = load_quarantine(glue_context, step_trainer_landing, quarantined, args["lake_root"],
                                 QUARANTINE)
    write_accounting(glue_context, f"{args['lake_root']}/{ACCOUNTING}",
                     {"source": "step_trainer", **accounting})
    [(table_name, relative_path)] = TARGET.items()
    load(glue_context, transform(step_trainer_landing, customer_curated, args["consent_mode"]),
         args["lake_root"], args["database"], table_name, relative_path)
    job.commit()


if __name__ == "__main__":
    main()
