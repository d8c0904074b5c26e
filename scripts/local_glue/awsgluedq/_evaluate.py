"""Evaluating a parsed DQDL ruleset on a Spark DataFrame, with Glue Data Quality's metrics.

Metrics are named as Glue reports them (``Dataset.*.RowCount``, ``Column.<c>.Completeness``,
``Column.<c>.Uniqueness``, ``Multicolumn.<c1,c2>.Uniqueness``, ``Dataset.*.ColumnCount``;
ColumnExists reports none) and computed in one aggregation over the frame (grouped by the
columns of the first uniqueness asked for), plus one per further set of such columns:

- Completeness: the share of rows where the column is not null (an empty string is complete);
- Uniqueness: of the rows where none of the columns is null, the share whose values occur in
  exactly one such row (Glue Data Quality is built on Deequ, which leaves nulls out);
- a frame of no rows has no share: Completeness and Uniqueness are then NaN, and a rule on them
  fails, as a comparison with NaN does.

A dynamic condition reads the metric's values of earlier evaluations in the same context, most
recent first: with none, ``last(k)`` is [0.0]; with fewer than k, all there are (AWS's DQDL
reference, "Dynamic rules").
"""

from __future__ import annotations

import functools
import math
import operator
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

from awsgluedq._dqdl import (
    Arithmetic,
    Composite,
    Condition,
    DqdlError,
    Expression,
    Number,
    Rule,
    Ruleset,
)
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

PASSED, FAILED = "Passed", "Failed"
# The metric's earlier values, most recent first.
History = Callable[[str], list[float]]


@dataclass
class RuleResult:
    rule: str
    outcome: str
    failure_reason: str | None
    metrics: dict[str, float] = field(default_factory=dict)


def java_double(value: float) -> str:
    """A double as Glue's messages print it (Java's Double.toString) for the values rules meet:
    4.0, 0.8, 1.0E7, NaN."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == int(value) and abs(value) < 1e7:
        return f"{value:.1f}"
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        mantissa = mantissa if "." in mantissa else mantissa + ".0"
        return f"{mantissa}E{int(exponent)}"
    return text


def metric_name(rule_type: str, columns: tuple[str, ...]) -> str:
    if rule_type in ("RowCount", "ColumnCount"):
        return f"Dataset.*.{rule_type}"
    kind = "Completeness" if rule_type in ("Completeness", "IsComplete") else "Uniqueness"
    if len(columns) > 1:
        return f"Multicolumn.{','.join(columns)}.{kind}"
    return f"Column.{columns[0]}.{kind}"


def rule_metrics(rule: Rule) -> list[str]:
    """The metrics a rule reports."""
    if rule.rule_type == "ColumnExists":
        return []
    if rule.rule_type == "IsPrimaryKey":
        return ([metric_name("Uniqueness", rule.columns)]
                + [metric_name("Completeness", (column,)) for column in rule.columns])
    return [metric_name(rule.rule_type, rule.columns)]


def simple_rules(rules: list[Rule | Composite]) -> list[Rule]:
    found = []
    for rule in rules:
        found += simple_rules(list(rule.parts)) if isinstance(rule, Composite) else [rule]
    return found


def resolve(frame: DataFrame, column: str) -> str | None:
    """The frame's column of that name, matched as Spark matches names (ignoring case)."""
    return next((name for name in frame.columns if name.lower() == column.lower()), None)


def compute_metrics(frame: DataFrame, rules: list[Rule]) -> dict[str, float]:
    """Every metric the rules need, for the columns the frame has: one aggregation, grouped by
    the columns whose uniqueness is asked for when there is one such set (a table's key), so
    that the gate of a table costs one pass; one more per further set."""
    wanted = {name: rule for rule in rules for name in rule_metrics(rule)}
    values: dict[str, float] = {"Dataset.*.ColumnCount": float(len(frame.columns))}
    completeness = {name: resolve(frame, name.removeprefix("Column.").removesuffix(
        ".Completeness")) for name in wanted if name.endswith(".Completeness")}
    unique_sets = {name: [resolve(frame, column) for column in rule.columns]
                   for name, rule in wanted.items() if name.endswith(".Uniqueness")}
    unique_sets = {name: columns for name, columns in unique_sets.items() if all(columns)}
    counted_columns = [column for column in completeness.values() if column]
    grouped_by = next(iter(unique_sets.values()), [])
    counted = counts(frame, grouped_by, counted_columns)
    rows = counted["rows"]
    values["Dataset.*.RowCount"] = float(rows)
    for name, column in completeness.items():
        if column:
            values[name] = counted[f"complete_{counted_columns.index(column)}"] / rows \
                if rows else math.nan
    for name, columns in unique_sets.items():
        found = counted if columns == grouped_by else counts(frame, columns, [])
        values[name] = found["once"] / found["keyed"] if found["keyed"] else math.nan
    return {name: values[name] for name in [*wanted, "Dataset.*.RowCount"] if name in values}


def counts(frame: DataFrame, grouped_by: list[str], columns: list[str]) -> dict[str, int]:
    """The frame's rows, each column's non-null values (``complete_<i>``), and where
    ``grouped_by`` is given, the rows with no null among those columns (``keyed``) and the rows
    whose values there no other row has (``once``): Uniqueness is once / keyed."""
    per_row = [F.count(F.lit(1)).alias("rows")]
    per_row += [F.count(F.col(f"`{column}`")).alias(f"complete_{index}")
                for index, column in enumerate(columns)]
    if not grouped_by:
        return frame.agg(*per_row).first().asDict()
    keys = [F.col(f"`{column}`") for column in grouped_by]
    keyed = functools.reduce(operator.and_, [key.isNotNull() for key in keys])
    groups = frame.groupBy(*keys).agg(*per_row).withColumn("_keyed", keyed)
    totals = [F.sum(name).alias(name) for name in ["rows"] + [f"complete_{index}" for index
                                                              in range(len(columns))]]
    totals += [F.sum(F.when(F.col("_keyed"), F.col("rows")).otherwise(0)).alias("keyed"),
               F.sum(F.when(F.col("_keyed") & (F.col("rows") == 1), 1).otherwise(0)).alias("once")]
    found = groups.agg(*totals).first().asDict()
    return {name: value or 0 for name, value in found.items()}


# --- conditions ----------------------------------------------------------------------------------

def evaluate_expression(expression: Expression, history: list[float]) -> float:
    if isinstance(expression, Number):
        return expression.value
    if isinstance(expression, Arithmetic):
        left = evaluate_expression(expression.left, history)
        right = evaluate_expression(expression.right, history)
        return {"+": left + right, "-": left - right, "*": left * right,
                "/": left / right if right else math.nan}[expression.operator]
    if expression.function == "abs":
        return abs(evaluate_expression(expression.argument, history))
    values = history[:expression.values.count] or [0.0]
    if expression.function == "index":
        if expression.position >= expression.values.count:
            raise DqdlError(f"index(last({expression.values.count}), {expression.position}): "
                            "i counts from 0 and must be less than k")
        return values[expression.position] if expression.position < len(values) else 0.0
    aggregate = {"avg": statistics.fmean, "median": statistics.median, "min": min, "max": max,
                 "sum": math.fsum,
                 "std": lambda v: statistics.pstdev(v) if len(v) > 1 else 0.0}
    return float(aggregate[expression.function](values))


def holds(condition: Condition, value: float, history: list[float]) -> bool:
    operands = [evaluate_expression(operand, history) for operand in condition.operands]
    if math.isnan(value):
        return False
    match condition.operator:
        case "between":
            return operands[0] < value < operands[1]
        case "not between":
            return value <= operands[0] or value >= operands[1]
        case "in":
            return value in operands
        case "not in":
            return value not in operands
    comparisons = {"=": value == operands[0], "!=": value != operands[0],
                   ">": value > operands[0], ">=": value >= operands[0],
                   "<": value < operands[0], "<=": value <= operands[0]}
    return comparisons[condition.operator]


# --- rules ---------------------------------------------------------------------------------------

def evaluate_rule(rule: Rule, frame: DataFrame, metrics: dict[str, float],
                  history: History) -> RuleResult:
    reported = {name: metrics[name] for name in rule_metrics(rule) if name in metrics}
    missing = [column for column in rule.columns if resolve(frame, column) is None]
    if rule.rule_type == "ColumnExists":
        if missing:
            return RuleResult(rule.text, FAILED,
                              f"Input data does not include column {missing[0]}!")
        return RuleResult(rule.text, PASSED, None)
    if missing:
        return RuleResult(rule.text, FAILED,
                          f"Input data does not include column {missing[0]}!", reported)
    if rule.rule_type == "IsPrimaryKey":
        failing = [value for value in reported.values() if not value == 1.0]
    else:
        name = metric_name(rule.rule_type, rule.columns)
        value = metrics[name]
        passed = (value == 1.0 if rule.condition is None
                  else holds(rule.condition, value, history(name)))
        failing = [] if passed else [value]
    if failing:
        return RuleResult(rule.text, FAILED, f"Value: {java_double(failing[0])} does not meet "
                                             "the constraint requirement!", reported)
    return RuleResult(rule.text, PASSED, None, reported)


def evaluate_composite(rule: Rule | Composite, frame: DataFrame, metrics: dict[str, float],
                       history: History) -> RuleResult:
    if isinstance(rule, Rule):
        return evaluate_rule(rule, frame, metrics, history)
    parts = [evaluate_composite(part, frame, metrics, history) for part in rule.parts]
    passed = [part.outcome == PASSED for part in parts]
    outcome = all(passed) if rule.operator == "and" else any(passed)
    reported = {name: value for part in parts for name, value in part.metrics.items()}
    reasons = "\n".join(part.failure_reason for part in parts if part.failure_reason)
    return RuleResult(rule.text, PASSED if outcome else FAILED,
                      None if outcome else reasons, reported)


def evaluate(frame: DataFrame, ruleset: Ruleset, history: History) -> tuple[list[RuleResult],
                                                                           dict[str, float]]:
    """Each rule's result, in the ruleset's order, and every metric measured (to keep for later
    dynamic rules)."""
    metrics = compute_metrics(frame, simple_rules(ruleset.rules))
    return [evaluate_composite(rule, frame, metrics, history) for rule in ruleset.rules], metrics
