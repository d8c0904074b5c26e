"""The landing records' data-quality gate (docs/design.md, "Data-quality gates"): of all the
records of a landing table, the share the job can accept, each field present in enough of them
as in recent runs (a renamed or dropped field is in none), and their count; evaluated before the
job rewrites its quarantine.
"""

from awsglue.context import GlueContext
from pyspark.sql import DataFrame
from pyspark.sql.functions import lit

from glue_jobs.shared.quality_gate import check_gate, number_argument, row_count_rules

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
