"""Local ``awsgluedq.transforms``: EvaluateDataQuality, as AWS documents it for PySpark.

Each evaluation appends its metrics and rule results to ``<lake>/_dq/<context>.jsonl`` (the lake
is the local catalog's root, where Glue keeps them in its own data-quality results), and dynamic
rules read the metrics of the earlier evaluations of the same context from there.
"""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path

from awsglue._local_catalog import catalog_root
from awsglue.dynamicframe import DynamicFrame
from awsgluedq._dqdl import parse
from awsgluedq._evaluate import RuleResult, evaluate
from pyspark.sql.types import DoubleType, MapType, StringType, StructField, StructType

DEFAULT_CONTEXT = "default_context"
RESULT_SCHEMA = StructType([
    StructField("Rule", StringType()),
    StructField("Outcome", StringType()),
    StructField("FailureReason", StringType()),
    StructField("EvaluatedMetrics", MapType(StringType(), DoubleType())),
])


def history_file(context: str) -> Path:
    """Where a context's evaluations are kept: one JSON line each, oldest first."""
    return catalog_root() / "_dq" / f"{re.sub(r'[^A-Za-z0-9._-]', '_', context)}.jsonl"


def earlier_evaluations(context: str) -> list[dict]:
    """The context's evaluations, most recent first."""
    path = history_file(context)
    if not path.is_file():
        return []
    return [json.loads(line) for line in reversed(path.read_text().splitlines()) if line]


def keep_evaluation(context: str, results: list[RuleResult], metrics: dict[str, float]) -> None:
    path = history_file(context)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"evaluated_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
              "metrics": metrics,
              "results": [{"Rule": r.rule, "Outcome": r.outcome,
                           "FailureReason": r.failure_reason, "EvaluatedMetrics": r.metrics}
                          for r in results]}
    with path.open("a") as file:
        file.write(json.dumps(record, allow_nan=True) + "\n")


class EvaluateDataQuality:
    """Evaluates a DQDL ruleset against a DynamicFrame and returns a new DynamicFrame with the
    results of the evaluation: one row per rule, in the ruleset's order."""

    def __call__(self, frame, ruleset, publishing_options={}):  # noqa: B006 AWS's signature
        context = publishing_options.get("dataQualityEvaluationContext", DEFAULT_CONTEXT)
        earlier = earlier_evaluations(context)

        def history(metric: str) -> list[float]:
            return [record["metrics"][metric] for record in earlier
                    if metric in record["metrics"]]

        results, metrics = evaluate(frame.toDF(), parse(ruleset), history)
        keep_evaluation(context, results, metrics)
        spark = frame.toDF().sparkSession
        rows = [(r.rule, r.outcome, r.failure_reason, r.metrics) for r in results]
        return DynamicFrame.fromDF(spark.createDataFrame(rows, RESULT_SCHEMA), frame.glue_ctx,
                                   f"{context}_results")

    @classmethod
    def apply(cls, *args, **kwargs):
        """As AWS's GlueTransform.apply: a new transform, called with the arguments."""
        return cls()(*args, **kwargs)
