"""The AWS Glue versions this project runs on, and what each runs: one table for the local
environments (Makefile, awsglue/_local_versions.py) and for deploy's --glue-version.

Sources: AWS Glue's release notes and migration guides (Spark, Python, Java per version), and
AWS's awsglue interfaces (AWSGlueDataplanePython 5.0.0, 5.1.0, 6.0.0).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GlueRuntime:
    """What a Glue version runs, and the differences the jobs can see."""

    version: str
    spark: str
    python: str
    # Spark SQL's ANSI mode: on by default from Spark 4.0 (Glue 6.x), off in Spark 3.5 (5.x).
    ansi: bool
    # getResolvedOptions: AWS's 6.0 interfaces add allow_abbrev=False, so an abbreviated --name
    # no longer resolves to a longer option; 5.x always resolves it.
    abbreviations_by_default: bool
    # Glue 5.1 and later read S3 through S3A, whose region AWS's migration notes advise setting.
    s3a: bool
    # On-demand $ per DPU-hour of Spark jobs (us-east-1), billed per second with a one-minute
    # minimum, as looked up (docs/deploy.md, "What a run costs" gives the sources): $0.44 for
    # 5.x; AWS announced 6.0 at 30% less; no price for 6.1 was found, so none is made up (None).
    price_per_dpu_hour: float | None
    # The Java majors the local environment may run on, the one Glue runs first: Glue runs Java
    # 17 on every version; Spark 4.x also supports 21, Spark 3.5 (8, 11, 17) nothing newer than
    # 17. Java 25 stops Hadoop's login (Subject.getSubject is gone): docs/glue-versions.md,
    # "Java and Python".
    java: tuple[int, ...] = (17,)
    # Where this version's Python is missing, the local environment takes the nearest of these,
    # all of which its pyspark and the project's other pins run on (3.10 is the oldest: pytest 9,
    # matplotlib 3.10); nearest first. pyspark 3.5 goes no further than 3.11.
    fallback_pythons: tuple[str, ...] = ()


GLUE_RUNTIMES = (
    GlueRuntime("5.0", spark="3.5.4", python="3.11", ansi=False, abbreviations_by_default=True,
                s3a=False, price_per_dpu_hour=0.44, fallback_pythons=("3.10",)),
    GlueRuntime("5.1", spark="3.5.6", python="3.11", ansi=False, abbreviations_by_default=True,
                s3a=True, price_per_dpu_hour=0.44, fallback_pythons=("3.10",)),
    GlueRuntime("6.0", spark="4.1.1", python="3.13", ansi=True, abbreviations_by_default=False,
                s3a=True, price_per_dpu_hour=0.308, java=(17, 21),
                fallback_pythons=("3.12", "3.14", "3.11", "3.10")),
    GlueRuntime("6.1", spark="4.1.3", python="3.14", ansi=True, abbreviations_by_default=False,
                s3a=True, price_per_dpu_hour=None, java=(17, 21),
                fallback_pythons=("3.13", "3.12", "3.11", "3.10")),
)
GLUE_VERSIONS = tuple(runtime.version for runtime in GLUE_RUNTIMES)
# The version of the default local environment (.venv) and of deploy: docs/glue-versions.md,
# "Which version deploy uses".
DEFAULT_GLUE_VERSION = "6.0"


def glue_runtime(version: str) -> GlueRuntime:
    """The runtime of Glue ``version``; KeyError names the known versions."""
    for runtime in GLUE_RUNTIMES:
        if runtime.version == version:
            return runtime
    raise KeyError(f"unknown Glue version {version!r}; known: {', '.join(GLUE_VERSIONS)}")
