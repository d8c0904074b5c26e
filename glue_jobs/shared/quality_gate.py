"""Data-quality gates: DQDL rulesets that Glue Data Quality evaluates before a job replaces
anything it publishes (docs/design.md, "Data-quality gates").

Every job gates the table it is about to publish (its grain unique, its row count against recent
runs); the landing jobs also gate their landing records (glue_jobs/shared/landing_gate.py). A
failed rule stops the job with one line naming the failed rules and their measured values, so
the published tables stay as they were and the later jobs do not run; ``--dq_override true``
publishes anyway and says so in the job's log.
"""

import datetime

from awsglue.context import GlueContext
from awsglue.dynamicframe import DynamicFrame
from awsgluedq.transforms import EvaluateDataQuality
from pyspark.sql import DataFrame

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
