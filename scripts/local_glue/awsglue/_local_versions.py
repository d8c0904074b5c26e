"""Which AWS Glue version the local runtime stands in for: the one whose Spark is installed.

Each local environment (make ... GLUE_VERSION=) installs one Glue version's Spark and Python, so
one copy of the runtime behaves as 5.0, 5.1, 6.0 or 6.1 does. The table of versions is
scripts/local_glue/glue_versions.py, shared with deploy.
"""

from awsglue.local_errors import LocalUnsupportedError

from scripts.local_glue.glue_versions import GLUE_RUNTIMES, GlueRuntime


def runtime_of_spark(spark_version: str) -> GlueRuntime:
    """The Glue version that runs ``spark_version``; LocalUnsupportedError for any other."""
    for runtime in GLUE_RUNTIMES:
        if runtime.spark == spark_version:
            return runtime
    raise LocalUnsupportedError(
        f"pyspark {spark_version} is no Glue version's Spark "
        f"({', '.join(f'{r.version}: {r.spark}' for r in GLUE_RUNTIMES)})"
    )


def current_runtime() -> GlueRuntime:
    """The Glue version of the installed pyspark."""
    import pyspark

    return runtime_of_spark(pyspark.__version__)
