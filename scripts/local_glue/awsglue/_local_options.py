"""Validation of the option dictionaries that the Glue API takes (local runtime only)."""

from collections.abc import Iterable, Mapping

from awsglue.local_errors import LocalUnsupportedError


def refuse_unknown(options: Mapping[str, object], supported: Iterable[str], what: str) -> None:
    """Raise LocalUnsupportedError naming every option the local runtime does not implement.

    Glue accepts many options; silently dropping one would change the result without telling anyone.
    """
    allowed = set(supported)
    unknown = sorted(name for name in options if name not in allowed)
    if unknown:
        offered = ", ".join(sorted(allowed)) or "none"
        raise LocalUnsupportedError(
            f"{what}: the local Glue runtime does not implement {', '.join(unknown)} "
            f"(it supports: {offered})"
        )


def as_bool(value: object, name: str) -> bool:
    """Read a Glue boolean option, which callers pass either as a bool or as "true"/"false"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError(f"option {name} must be true or false, got {value!r}")
