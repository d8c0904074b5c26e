"""Local `awsglue.utils`: job argument parsing, with the semantics of AWS's getResolvedOptions."""

import argparse

from awsglue import _local_versions
from awsglue.job import Job

# Glue treats the temporary-directory arguments as optional even when a script lists them.
_TEMP_DIR_OPTIONS = ("RedshiftTempDir", "TempDir")


class GlueArgumentError(Exception):
    """A job argument is missing or malformed."""


class GlueArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser that raises GlueArgumentError instead of exiting, so the caller can
    report it."""

    def error(self, msg: str) -> None:
        raise GlueArgumentError(msg)


def _resolve_options(args: list[str], options: list[str], allow_abbrev: bool) -> dict:
    """Return the value of each option named in `options`, read from `args` (normally sys.argv).

    Every listed option is required as `--name value` (or `--name=value`); arguments that are not
    listed are ignored, because Glue passes arguments of its own to every script. The result also
    holds Glue's own arguments (None when absent) and `job_bookmark_option`, which defaults to
    "job-bookmark-disable". A missing or malformed argument raises GlueArgumentError; listing one
    of Glue's reserved arguments (bookmark options, JOB_ID, JOB_RUN_ID, ...) raises RuntimeError.
    With `allow_abbrev`, an unambiguous prefix of an option's name stands for the option.
    """
    _refuse_reserved(options)
    parser = _parser_with_glue_arguments(allow_abbrev)
    for option in options:
        if option not in _TEMP_DIR_OPTIONS:
            parser.add_argument("--" + option, required=True)
    parsed, _ = parser.parse_known_args(args[1:])
    resolved = vars(parsed)
    _share_temp_dir(resolved)
    _resolve_bookmark_option(resolved)
    _check_bookmark_range(resolved)
    return resolved


# The signature of the Glue version whose Spark is installed: Glue 6.0 added allow_abbrev=False
# (abbreviated names no longer resolve); Glue 5.x has no such parameter and always allows them.
if _local_versions.current_runtime().abbreviations_by_default:

    def getResolvedOptions(args: list[str], options: list[str]) -> dict[str, str | None]:
        """Return the value of each option named in `options`, read from `args` (see
        _resolve_options); as in Glue 5.x, an abbreviated option name resolves."""
        return _resolve_options(args, options, allow_abbrev=True)

else:

    def getResolvedOptions(
        args: list[str], options: list[str], allow_abbrev: bool = False
    ) -> dict[str, str | None]:
        """Return the value of each option named in `options`, read from `args` (see
        _resolve_options); as in Glue 6.x, abbreviations resolve only with allow_abbrev."""
        return _resolve_options(args, options, allow_abbrev)


def _reserved_arguments() -> list[str]:
    """The arguments that Glue sets itself; JOB_NAME is not reserved, as scripts list it to read
    it."""
    return [
        Job.job_bookmark_options()[0],
        Job.continuation_options()[0],
        *Job.job_bookmark_range_options(),
        *Job.id_params()[1:],
        Job.encryption_type_options()[0],
        *Job.data_lineage_options(),
    ]


def _refuse_reserved(options: list[str]) -> None:
    for argument in _reserved_arguments():
        if argument[2:] in options:
            raise RuntimeError("Using reserved arguments " + argument)


def _parser_with_glue_arguments(allow_abbrev: bool) -> GlueArgumentParser:
    """A parser that already knows Glue's own optional arguments, so they resolve to None when
    absent."""
    parser = GlueArgumentParser(allow_abbrev=allow_abbrev)
    parser.add_argument(
        Job.job_bookmark_options()[0], choices=Job.job_bookmark_options()[1:], required=False
    )
    parser.add_argument(
        Job.continuation_options()[0], choices=Job.continuation_options()[1:], required=False
    )
    for argument in [*Job.job_bookmark_range_options(), *Job.id_params()[1:]]:
        parser.add_argument(argument, required=False)
    parser.add_argument(Job.encryption_type_options()[0], choices=Job.encryption_type_options()[1:])
    parser.add_argument(Job.data_lineage_options()[0], required=False)
    for option in _TEMP_DIR_OPTIONS:
        parser.add_argument("--" + option, required=False)
    return parser


def _share_temp_dir(resolved: dict) -> None:
    """Give TempDir and RedshiftTempDir the same value when only one was passed (TempDir wins)."""
    if resolved["TempDir"] is not None:
        resolved["RedshiftTempDir"] = resolved["TempDir"]
    elif resolved["RedshiftTempDir"] is not None:
        resolved["TempDir"] = resolved["RedshiftTempDir"]


def _resolve_bookmark_option(resolved: dict) -> None:
    """Fold the legacy --continuation-option into job_bookmark_option, which wins when both are
    set."""
    continuation = resolved.pop("continuation_option")
    if resolved["job_bookmark_option"] is not None:
        return
    if continuation is None:
        resolved["job_bookmark_option"] = Job.job_bookmark_options()[3]
    else:
        position = Job.continuation_options().index(continuation)
        resolved["job_bookmark_option"] = Job.job_bookmark_options()[position]


def _check_bookmark_range(resolved: dict) -> None:
    """A paused bookmark needs both ends of the range or neither; other modes accept at most one
    end."""
    range_arguments = Job.job_bookmark_range_options()
    absent = [
        argument for argument in range_arguments if resolved[argument[2:].replace("-", "_")] is None
    ]
    if resolved["job_bookmark_option"] == Job.job_bookmark_options()[2]:
        if len(absent) == 1:
            raise RuntimeError("Missing option or value for " + absent[0])
    elif not absent:
        raise RuntimeError("Invalid option(s) " + " ".join(range_arguments))
