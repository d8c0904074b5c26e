"""The local awsgluedq (#23, its first part): DQDL parsed as its grammar says, each rule type's
metric equal to DuckDB's on the same data, dynamic rules against the lake's history, and the
result shape AWS documents (Rule, Outcome, FailureReason, EvaluatedMetrics)."""

from __future__ import annotations

import json
import math

import duckdb
import pytest
from awsglue._local_catalog import CATALOG_ROOT_ENV
from awsglue.context import GlueContext
from awsglue.dynamicframe import DynamicFrame
from awsgluedq._dqdl import Composite, DqdlError, Last, Rule, parse
from awsgluedq.transforms import RESULT_SCHEMA, EvaluateDataQuality, history_file

pytestmark = pytest.mark.every_glue_version


# --- the grammar ---------------------------------------------------------------------------------


def test_a_ruleset_parses_into_its_rules_in_order():
    ruleset = parse('''Rules = [
        RowCount > 0,  # at least one row
        ColumnExists "email",
        Completeness email >= 0.95,
        Uniqueness "a" "b" between 0.5 and 1,
        RowCount > avg(last(3)) * 0.8 - 1,
        (IsComplete "a") and (IsUnique "a") or (RowCount = 3)
    ]''')
    kinds = [rule.rule_type if isinstance(rule, Rule) else rule.operator
             for rule in ruleset.rules]
    assert kinds == ["RowCount", "ColumnExists", "Completeness", "Uniqueness", "RowCount", "or"]
    assert ruleset.rules[2].columns == ("email",)  # a bare name is a column too
    assert ruleset.rules[3].columns == ("a", "b")
    assert ruleset.rules[4].condition.is_dynamic
    assert ruleset.rules[4].condition.operands[0].left.left.values == Last(3)
    composite = ruleset.rules[5]
    assert isinstance(composite.parts[0], Composite) and composite.parts[0].operator == "and"
    assert composite.text == '((IsComplete "a") AND (IsUnique "a")) OR (RowCount = 3)'


@pytest.mark.parametrize(("ruleset", "message"), [
    ('Rules = [ ColumnValues "x" > 3 ]', "rule type 'ColumnValues' is not one the local runtime"),
    ('Rules = [ rowcount > 3 ]', "rule type 'rowcount' is not one"),  # case-sensitive
    ('Rules = [ IsComplete "x" > 0.5 ]', "IsComplete answers yes or no and takes no condition"),
    ('Rules = [ RowCount ]', "expected a condition (= != > >= < <= between in)"),
    ('Rules = [ RowCount > last(5) ]', "last(k) is a list of values"),
    ('Rules = [ RowCount > index(last(2), 2) ]', None),  # parses; evaluating it is an error
    ('Rules = [ Completeness > 0.5 ]', "Completeness takes 1 quoted column name(s), not 0"),
    ('Rules = [ RowCount > 0 ', "expected ']', but the ruleset ends"),
    ("Rules = [ IsComplete 'x' ]", "unexpected \"'\""),  # double quotes only
])
def test_a_ruleset_the_local_runtime_cannot_evaluate_is_an_error_never_a_pass(ruleset, message):
    if message is None:
        parse(ruleset)
        return
    with pytest.raises(DqdlError, match=None) as raised:
        parse(ruleset)
    assert message in str(raised.value)


# --- evaluation ----------------------------------------------------------------------------------

ROWS = [("a@x", 1, "s1"), ("b@x", None, "s2"), ("b@x", 3, "s2"), (None, 4, "s3"),
        ("", 5, "s4"), ("c@x", 5, None)]


@pytest.fixture()
def lake(tmp_path, monkeypatch):
    monkeypatch.setenv(CATALOG_ROOT_ENV, str(tmp_path / "lake"))
    return tmp_path / "lake"


@pytest.fixture()
def frame(spark, tmp_path):
    df = spark.createDataFrame(ROWS, "email string, n long, serial string")
    df.write.parquet(str(tmp_path / "frame"))
    return df


def results(spark, df, ruleset: str, context: str = "test") -> list[dict]:
    out = EvaluateDataQuality.apply(frame=DynamicFrame.fromDF(df, GlueContext(spark.sparkContext),
                                                              "frame"),
                                    ruleset=ruleset,
                                    publishing_options={"dataQualityEvaluationContext": context})
    assert out.toDF().schema == RESULT_SCHEMA
    return [row.asDict() for row in out.toDF().collect()]


def duckdb_metrics(tmp_path) -> dict[str, float]:
    """The same metrics, by DuckDB on the Parquet of the same rows."""
    table = f"read_parquet('{tmp_path / 'frame'}/*.parquet')"

    def one(sql: str) -> float:
        return float(duckdb.sql(sql.format(t=table)).fetchone()[0])

    def uniqueness(*columns: str) -> float:
        listed = ", ".join(columns)
        not_null = " and ".join(f"{c} is not null" for c in columns)
        return one(f"select sum(case when n = 1 then 1 else 0 end) / sum(n) from (select "
                   f"count(*) as n from {{t}} where {not_null} group by {listed})")

    return {"Dataset.*.RowCount": one("select count(*) from {t}"),
            "Dataset.*.ColumnCount": one("select count(*) from (describe select * from {t})"),
            "Column.email.Completeness": one("select count(email) / count(*) from {t}"),
            "Column.n.Completeness": one("select count(n) / count(*) from {t}"),
            "Column.email.Uniqueness": uniqueness("email"),
            "Column.serial.Uniqueness": uniqueness("serial"),
            "Multicolumn.email,serial.Uniqueness": uniqueness("email", "serial")}


def test_each_rule_types_metric_is_duckdbs_on_the_same_data(spark, frame, lake, tmp_path):
    rows = results(spark, frame, '''Rules = [
        RowCount > 0, ColumnCount = 3, Completeness "email" > 0, Completeness "n" > 0,
        Uniqueness "email" > 0, Uniqueness "serial" > 0, Uniqueness "email" "serial" > 0]''')
    measured = {name: value for row in rows for name, value in row["EvaluatedMetrics"].items()}
    expected = duckdb_metrics(tmp_path)
    assert measured.keys() == expected.keys()
    assert all(math.isclose(measured[name], expected[name]) for name in expected), measured


def test_outcomes_and_failure_reasons_are_as_glue_reports_them(spark, frame, lake):
    rows = results(spark, frame, '''Rules = [
        ColumnExists "email", ColumnExists "phone", IsComplete "serial", IsComplete "phone",
        IsUnique "n", Completeness "email" >= 0.8, RowCount between 1 and 6,
        RowCount not between 1 and 6, IsPrimaryKey "serial"]''')
    assert [(r["Rule"], r["Outcome"], r["FailureReason"]) for r in rows] == [
        ('ColumnExists "email"', "Passed", None),
        ('ColumnExists "phone"', "Failed", "Input data does not include column phone!"),
        ('IsComplete "serial"', "Failed",
         "Value: 0.8333333333333334 does not meet the constraint requirement!"),
        ('IsComplete "phone"', "Failed", "Input data does not include column phone!"),
        ('IsUnique "n"', "Failed", "Value: 0.6 does not meet the constraint requirement!"),
        ('Completeness "email" >= 0.8', "Passed", None),  # "" is complete: 5 of 6
        ("RowCount between 1 and 6", "Failed",  # between excludes its ends
         "Value: 6.0 does not meet the constraint requirement!"),
        ("RowCount not between 1 and 6", "Passed", None),  # not between includes them
        ('IsPrimaryKey "serial"', "Failed",  # s2 twice: 3 of the 5 serials are unique
         "Value: 0.6 does not meet the constraint requirement!"),
    ]
    assert rows[0]["EvaluatedMetrics"] == {}


def test_dynamic_rules_read_the_contexts_earlier_metrics_kept_in_the_lake(spark, lake):
    """No history: last(k) is [0.0]; then the most recent k evaluations of the same context."""
    rule = "Rules = [ RowCount > avg(last(2)) * 0.5, RowCount >= max(last(3)) ]"

    def evaluate(rows: int, context: str = "customer_trusted") -> list[str]:
        return [r["Outcome"] for r in results(spark, spark.range(rows).toDF("id"), rule,
                                              context)]

    assert evaluate(100) == ["Passed", "Passed"]  # 100 > 0.0
    assert evaluate(80) == ["Passed", "Failed"]  # 80 > 50; 80 < 100
    assert evaluate(40) == ["Failed", "Failed"]  # 40 <= avg(80, 100) * 0.5 = 45
    assert evaluate(40, "another_context") == ["Passed", "Passed"]  # no history there
    kept = [json.loads(line) for line in history_file("customer_trusted").read_text()
            .splitlines()]
    assert [record["metrics"]["Dataset.*.RowCount"] for record in kept] == [100, 80, 40]
    assert kept[-1]["results"][0]["Outcome"] == "Failed"
    assert history_file("customer_trusted").is_relative_to(lake / "_dq")


def test_an_empty_frame_has_no_completeness_and_its_rules_fail(spark, lake):
    empty = spark.createDataFrame([], "email string")
    rows = results(spark, empty, 'Rules = [ RowCount = 0, Completeness "email" > 0.5 ]')
    assert [r["Outcome"] for r in rows] == ["Passed", "Failed"]
    assert rows[1]["FailureReason"] == "Value: NaN does not meet the constraint requirement!"
