"""The usual STEDI solution, as a benchmark peer: five Spark SQL steps over ``spark.read.json``.

    python -m scripts.dev.peer_pipeline LAKE OUT     (prints the eight row counts as JSON)

This is how most solutions of the course work: each landing folder is read with Spark's JSON
reader and an *inferred* schema, each zone is one SQL statement, and each step writes Parquet that
the next step reads back (as Glue Studio jobs chain through S3). It uses this project's zone rules
with the default options (docs/design.md, "Job options"), so that on clean data its row counts
must equal the pipeline's, but none of its guarantees: a malformed line is dropped or nulled
silently, a name in another case is ignored, nothing is quarantined or counted. It runs in one
plain local Spark session with the same 2 GB driver as the local Glue runtime and Spark's
defaults otherwise: what a user would run instead of this project.

It is a benchmark engine (scripts/dev/bench.py), not part of the pipeline.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pyspark.sql import SparkSession

LANDING = {"customer_landing": "customer/landing",
           "accelerometer_landing": "accelerometer/landing",
           "step_trainer_landing": "step_trainer/landing"}

# (table, statement) in dependency order; each reads landing views and earlier tables.
STEPS = (
    ("customer_trusted", """
        select customerName, email, phone, birthDay, serialNumber, registrationDate,
               lastUpdateDate, shareWithResearchAsOfDate, shareWithPublicAsOfDate,
               shareWithFriendsAsOfDate
        from (select *, row_number() over (
                  partition by email
                  order by lastUpdateDate desc nulls last, registrationDate desc nulls last)
                  as recency
              from customer_landing where email is not null)
        where recency = 1 and shareWithResearchAsOfDate is not null"""),
    ("accelerometer_trusted", """
        select distinct a.user, a.timestamp, a.x, a.y, a.z
        from accelerometer_landing a join customer_trusted c on a.user = c.email"""),
    ("customer_curated", """
        select * from customer_trusted c
        where exists (select 1 from accelerometer_trusted a where a.user = c.email)"""),
    ("step_trainer_trusted", """
        select distinct s.sensorReadingTime, s.serialNumber, s.distanceFromObject
        from step_trainer_landing s
        where s.serialNumber in (select serialNumber from customer_curated)"""),
    ("machine_learning_curated", """
        select s.sensorReadingTime, s.serialNumber, s.distanceFromObject, a.x, a.y, a.z
        from step_trainer_trusted s join accelerometer_trusted a
          on s.sensorReadingTime = a.timestamp
        where exists (select 1 from customer_curated c
                      where c.email = a.user and c.serialNumber = s.serialNumber)"""),
)


def peer_session() -> SparkSession:
    """A plain local session: all cores, the local Glue runtime's 2 GB driver, no UI."""
    return (SparkSession.builder.master("local[*]").appName("stedi-usual-peer")
            .config("spark.driver.memory", "2g")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .getOrCreate())


def run(spark: SparkSession, lake: Path, out: Path) -> dict[str, int]:
    """Build the five zones under ``out``; the eight row counts, landing tables first."""
    counts = {}
    for name, relative in LANDING.items():
        location = str(lake / relative)
        spark.read.json(location).createOrReplaceTempView(name)  # inferring is a pass of its own
        # The bench compares all eight counts. A landing count through the JSON reader would
        # cost the peer a parse it does not otherwise make (the pipeline gets its count from its
        # checks), so the peer counts non-blank lines, which on clean data are its records.
        counts[name] = spark.read.text(location).where("trim(value) != ''").count()
    for name, sql in STEPS:
        location = str(out / name)
        spark.sql(sql).write.mode("overwrite").parquet(location)
        table = spark.read.parquet(location)
        table.createOrReplaceTempView(name)
        counts[name] = table.count()
    return counts


def main(argv: list[str]) -> int:
    lake, out = Path(argv[0]), Path(argv[1])
    spark = peer_session()
    spark.sparkContext.setLogLevel("ERROR")
    try:
        counts = run(spark, lake, out)
    finally:
        spark.stop()
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
