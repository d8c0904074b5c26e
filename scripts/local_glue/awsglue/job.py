"""Local `awsglue.job`: the Glue job lifecycle (init / commit) without job bookmarks.

Locally a job run always processes all its input: there is no bookmark state to keep, and the jobs
purge their target before writing, so a re-run gives the same result as on Glue with bookmarks off.
"""

import logging

# Imported as a module: AWS's awsglue.job offers no GlueContext name, so neither may this one.
import awsglue.context
from pyspark.sql import SparkSession

_LOG = logging.getLogger(__name__)


class Job:
    """A Glue job run; `init` starts it and `commit` ends it."""

    # The argument names below are reserved by Glue; getResolvedOptions reads them from here.
    @classmethod
    def continuation_options(cls) -> list[str]:
        """The legacy bookmark argument and its values (translated to job_bookmark_options by
        position)."""
        return [
            "--continuation-option",
            "continuation-enabled",
            "continuation-readonly",
            "continuation-ignore",
        ]

    @classmethod
    def job_bookmark_options(cls) -> list[str]:
        """The bookmark argument and its values; the last one, disable, is what Glue assumes when
        it is absent."""
        return [
            "--job-bookmark-option",
            "job-bookmark-enable",
            "job-bookmark-pause",
            "job-bookmark-disable",
        ]

    @classmethod
    def job_bookmark_range_options(cls) -> list[str]:
        """The arguments that bound the runs a paused bookmark replays."""
        return ["--job-bookmark-from", "--job-bookmark-to"]

    @classmethod
    def id_params(cls) -> list[str]:
        """The arguments Glue passes to every run; all but --JOB_NAME are optional for scripts."""
        return ["--JOB_NAME", "--JOB_ID", "--JOB_RUN_ID", "--SECURITY_CONFIGURATION"]

    @classmethod
    def encryption_type_options(cls) -> list[str]:
        """The encryption argument and its only value."""
        return ["--encryption-type", "sse-s3"]

    @classmethod
    def data_lineage_options(cls) -> list[str]:
        """The data lineage argument."""
        return ["--enable-data-lineage"]

    def __init__(
        self, glue_context_or_spark_session: "awsglue.context.GlueContext | SparkSession"
    ) -> None:
        if isinstance(glue_context_or_spark_session, awsglue.context.GlueContext):
            self._glue_context: awsglue.context.GlueContext | None = glue_context_or_spark_session
            self._spark_session = glue_context_or_spark_session.spark_session
        elif isinstance(glue_context_or_spark_session, SparkSession):
            self._glue_context = None
            self._spark_session = glue_context_or_spark_session
        else:
            raise TypeError(
                "Job needs a GlueContext or a SparkSession, got "
                + type(glue_context_or_spark_session).__name__
            )
        self._job_name: str | None = None

    def init(self, job_name: str, args: dict = {}) -> None:  # noqa: B006 - Glue's default, never mutated
        """Start the run. `args` (the resolved options) only matter to bookmarks on Glue, so they
        are not kept."""
        self._job_name = job_name
        _LOG.info("job %s started (local runtime: no job bookmarks)", job_name)

    def isInitialized(self) -> bool:
        """Tell whether `init` was called."""
        return self._job_name is not None

    def commit(self) -> None:
        """End the run. On Glue this saves the bookmark state; locally there is none, so it only
        logs."""
        _LOG.info("job %s committed", self._job_name)
