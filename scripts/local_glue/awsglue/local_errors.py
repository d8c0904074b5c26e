"""Errors raised only by the local awsglue runtime.

AWS's `awsglue` has no such module: these errors exist because the local runtime refuses what it
does
not implement instead of silently doing something different from Glue.
"""


class LocalGlueError(Exception):
    """Base of every error that is specific to the local runtime."""


class LocalS3PathError(LocalGlueError):
    """An s3://, s3a:// or s3n:// path reached the local runtime, which reads and writes local
    disk only."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(
            f"{path!r} is an S3 path, but the local Glue runtime works on local paths only; "
            "on AWS the same script runs on Glue, which reads and writes S3."
        )


class LocalUnsupportedError(LocalGlueError):
    """A connection type, format or option that the local runtime does not implement.

    Raised instead of ignoring it, because ignoring it would make the local result differ from
    Glue's.
    """


class LocalCatalogRootError(LocalGlueError):
    """The local Data Catalog location is unknown, so a sink cannot record its table."""
