"""Local `awsglue.dynamicframe`: a DynamicFrame that wraps a Spark DataFrame.

On Glue a DynamicFrame is a JVM object made of self-describing records. The jobs only use it to hand
DataFrames to Glue's readers and sinks (fromDF / toDF), so locally it simply holds the DataFrame.
"""

import typing

from awsglue.local_errors import LocalUnsupportedError
from pyspark.sql import DataFrame

if typing.TYPE_CHECKING:
    from awsglue.context import GlueContext


class DynamicFrame:
    """A named DataFrame that Glue's readers return and Glue's sinks accept."""

    def __init__(self, jdf: DataFrame, glue_ctx: "GlueContext", name: str = "") -> None:
        # Glue passes the JVM DynamicFrame here; locally the DataFrame takes its place.
        self._jdf = jdf
        self.glue_ctx = glue_ctx
        self.name = name

    def toDF(self, options: list | None = None) -> DataFrame:
        """Return the frame as a DataFrame.

        Glue's `options` (ResolveOption list) resolve choice types, which arise when records
        disagree
        on a field's type. A local frame is a DataFrame with one type per column, so it has none and
        resolve options are refused rather than ignored.
        """
        if options:
            raise LocalUnsupportedError(
                "DynamicFrame.toDF: resolve options do not exist locally (no choice types)"
            )
        return self._jdf

    @classmethod
    def fromDF(
        cls, dataframe: DataFrame, glue_ctx: "GlueContext", name: str = ""
    ) -> "DynamicFrame":
        """Wrap a DataFrame so that it can be written by a Glue sink."""
        return cls(dataframe, glue_ctx, name)

    def count(self) -> int:
        """Return the number of records."""
        return self._jdf.count()


class DynamicFrameReader:
    """`glueContext.create_dynamic_frame`: reads DynamicFrames, e.g. `.from_options(...)`."""

    def __init__(self, glue_context: "GlueContext") -> None:
        self._glue_context = glue_context

    def from_options(
        self,
        connection_type: str,
        connection_options: dict = {},  # noqa: B006 - Glue's default, never mutated
        format: str | None = None,
        format_options: dict = {},  # noqa: B006 - Glue's default, never mutated
        transformation_ctx: str = "",
        push_down_predicate: str = "",
        **kwargs,
    ) -> DynamicFrame:
        """Read a DynamicFrame; see GlueContext.create_dynamic_frame_from_options."""
        return self._glue_context.create_dynamic_frame_from_options(
            connection_type,
            connection_options,
            format,
            format_options,
            transformation_ctx,
            push_down_predicate,
            **kwargs,
        )
