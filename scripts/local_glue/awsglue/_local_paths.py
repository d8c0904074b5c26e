"""Mapping of the paths a Glue script uses to local files (local runtime only)."""

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from awsglue.local_errors import LocalS3PathError, LocalUnsupportedError

_S3_SCHEMES = frozenset({"s3", "s3a", "s3n"})


def to_local_path(path: str) -> Path:
    """Return the absolute local path for a plain path or a file:// URL.

    S3 paths are refused rather than reached through Hadoop's S3 connector: the local runtime must
    never touch a real bucket.
    """
    parsed = urlparse(path)
    scheme = parsed.scheme.lower()
    if scheme in _S3_SCHEMES:
        raise LocalS3PathError(path)
    if scheme == "file" and parsed.netloc in ("", "localhost"):
        return Path(os.path.abspath(unquote(parsed.path)))
    if scheme:
        raise LocalUnsupportedError(
            f"{path!r}: the local Glue runtime reads and writes local paths only"
        )
    return Path(os.path.abspath(path))


def is_hidden(name: str) -> bool:
    """Tell whether Spark/Hadoop treat a file or folder as metadata rather than data (_SUCCESS,
    .crc, _temporary)."""
    return name.startswith(("_", "."))


def data_files(root: Path, recurse: bool) -> list[Path]:
    """List the data files under root, sorted, the way Glue's S3 reader selects them.

    Glue reads only the objects directly under a path unless "recurse" is true; Spark on its own
    would descend into every sub-folder, so the file list is built here and handed to Spark.
    """
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise FileNotFoundError(f"input path does not exist: {root}")
    if not recurse:
        return sorted(
            child for child in root.iterdir() if child.is_file() and not is_hidden(child.name)
        )
    found: list[Path] = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [name for name in subfolders if not is_hidden(name)]
        found.extend(Path(folder) / name for name in files if not is_hidden(name))
    return sorted(found)


def purge_files(root: Path, cutoff: float) -> list[Path]:
    """Delete every file under root last modified at or before cutoff (epoch seconds); return
    them sorted.

    Folders left empty are removed as well, because a purged S3 prefix leaves no "folders" behind;
    root itself stays. Symbolic links are removed, never followed, so nothing outside root is
    touched.
    """
    if not root.exists():
        return []
    if not root.is_dir():
        raise NotADirectoryError(f"purge path is a file, not a folder: {root}")
    deleted: list[Path] = []
    for folder, _, files in os.walk(root, topdown=False):
        for name in files:
            file = Path(folder) / name
            if file.lstat().st_mtime <= cutoff:
                file.unlink()
                deleted.append(file)
        if Path(folder) != root and not any(Path(folder).iterdir()):
            Path(folder).rmdir()
    return sorted(deleted)
