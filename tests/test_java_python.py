"""Any Java, any recent Python: which JVM local Spark runs on (the machine's where the Glue
version's Spark supports it, else an OpenJDK unpacked from the distribution's package into
.jre/), and which Python makes an environment where the Glue version's own is missing.

Machines that lack Java, or have only one Spark cannot run on, are built as a PATH of links to
everything else; a fake ``java`` answers as a real JVM of a given version would."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from awsglue._local_versions import current_runtime

from scripts.local_glue import java_runtime
from scripts.local_glue.glue_versions import GLUE_RUNTIMES, glue_runtime
from tests.support import REPO_ROOT, path_without

# What `java -XshowSettings:properties -version` prints of itself, per major version.
SPECIFICATION = {8: "1.8", 11: "11", 17: "17", 21: "21", 25: "25"}


def is_java_or_python(name: str) -> bool:
    return name in {"java", "javac", "jshell", "keytool"} or name.startswith(("python", "pip"))


def fake_java(folder: Path, major: int) -> Path:
    """A ``java`` that answers the settings probe as a JVM of ``major`` (and can run nothing)."""
    home = folder / f"jdk-{major}"
    (home / "bin").mkdir(parents=True)
    java = home / "bin" / "java"
    java.write_text("#!/bin/sh\ncat >&2 <<EOF\nProperty settings:\n"
                    f"    java.home = {home}\n"
                    f"    java.specification.version = {SPECIFICATION[major]}\n"
                    f"    java.vendor = Fake\nEOF\necho 'openjdk version \"{major}\"' >&2\n")
    java.chmod(java.stat().st_mode | stat.S_IXUSR)
    return java


@pytest.fixture
def no_java(tmp_path, monkeypatch) -> Path:
    """This process on a machine with no Java and nothing unpacked: returns its PATH folder."""
    folder = tmp_path / "bin"
    monkeypatch.setenv("PATH", path_without(folder, is_java_or_python))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv(java_runtime.JRE_DIR_VARIABLE, str(tmp_path / "jre"))
    return folder


@pytest.mark.parametrize("text, expected", [
    ("    java.home = /usr/lib/jvm/java-17-openjdk-amd64\n"
     "    java.specification.version = 17\n", (Path("/usr/lib/jvm/java-17-openjdk-amd64"), 17)),
    ("    java.specification.version = 1.8\n    java.home = /opt/jdk8/jre\n",
     (Path("/opt/jdk8/jre"), 8)),
    ("    java.home = /opt/jdk 25\n    java.specification.version = 25\n",
     (Path("/opt/jdk 25"), 25)),
    ("Error: could not find libjava.so\n", None),
])
def test_the_settings_probe_is_read_for_home_and_major(text, expected):
    assert java_runtime.parse_java_settings(text) == expected


# Glue runs Java 17 everywhere; Spark 4 (Glue 6.x) also runs on 21, Spark 3.5 on nothing newer.
ACCEPTED = {"5.0": {17}, "5.1": {17}, "6.0": {17, 21}, "6.1": {17, 21}}


@pytest.mark.parametrize("version", [r.version for r in GLUE_RUNTIMES])
@pytest.mark.parametrize("major", sorted(SPECIFICATION))
def test_the_machines_java_is_used_only_where_the_versions_spark_runs_on_it(
        no_java, tmp_path, version, major):
    java = fake_java(tmp_path, major)
    (no_java / "java").symlink_to(java)
    runtime = glue_runtime(version)
    if major in ACCEPTED[version]:
        chosen = java_runtime.select_java(runtime)
        assert (chosen.home, chosen.major, chosen.origin) == (java.parent.parent, major, "PATH")
    else:
        with pytest.raises(java_runtime.JavaNotFoundError, match=r"run `make setup`"):
            java_runtime.select_java(runtime)


def test_java_home_comes_before_path_and_an_unfit_java_home_is_passed_over(
        no_java, tmp_path, monkeypatch):
    on_path = fake_java(tmp_path / "path", 17)
    (no_java / "java").symlink_to(on_path)
    monkeypatch.setenv("JAVA_HOME", str(fake_java(tmp_path / "home", 21).parent.parent))
    assert java_runtime.select_java(glue_runtime("6.0")).origin == "JAVA_HOME"
    # Spark 3.5 cannot run on the 21 of JAVA_HOME: the 17 on PATH it is.
    assert java_runtime.select_java(glue_runtime("5.0")).home == on_path.parent.parent


def test_without_java_or_apt_make_names_the_command_that_installs_one(no_java):
    os.unlink(no_java / "apt-get")
    result = subprocess.run([sys.executable, "-m", "scripts.local_glue.java_runtime",
                             "--install"], capture_output=True, text=True, cwd=REPO_ROOT)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: no Java ")
    assert "no apt to unpack one: install one (" in result.stderr


@pytest.mark.every_glue_version
@pytest.mark.parametrize("machine", ["no java", "only java 25"])
def test_spark_starts_on_the_unpacked_openjdk_where_the_machine_has_no_fitting_java(
        tmp_path, machine):
    """What make does on such a machine (java_runtime --install), then a Spark session of the
    local runtime and a query on it. The runtime is unpacked into the repository's .jre/, as
    make does, so that later runs find it there."""
    folder = tmp_path / "bin"
    environment = {key: value for key, value in os.environ.items() if key != "JAVA_HOME"}
    environment["PATH"] = path_without(folder, is_java_or_python)
    if machine == "only java 25":
        (folder / "java").symlink_to(fake_java(tmp_path, 25))
    install = subprocess.run([sys.executable, "-m", "scripts.local_glue.java_runtime",
                              "--install"], capture_output=True, text=True, cwd=REPO_ROOT,
                             env=environment, timeout=600)
    assert install.returncode == 0, install.stderr
    assert install.stdout.splitlines()[-1].startswith(
        f"Spark {current_runtime().spark} (Glue {current_runtime().version}) runs on Java 17 "
        f"(unpacked from openjdk-17-jre-headless: {java_runtime.jre_dir()}/java-17/")
    spark_job = ("from pathlib import Path\n"
                 "from scripts.local_glue.session import local_spark_session\n"
                 f"spark = local_spark_session(Path({str(tmp_path / 'spark.log')!r}))\n"
                 "print(spark.sparkContext._jvm.System.getProperty('java.home'))\n"
                 "print(spark.range(1000).selectExpr('sum(id)').first()[0])\n")
    run = subprocess.run([sys.executable, "-c", spark_job], capture_output=True, text=True,
                         cwd=REPO_ROOT, env=environment, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    java_home, total = run.stdout.split()
    assert Path(java_home).is_relative_to(java_runtime.jre_dir())
    assert total == "499500"


# --- Python ----------------------------------------------------------------------------------

def which_python(version: str, path: str, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "-s", "which-python", f"GLUE_VERSION={version}"],
                          capture_output=True, text=True, cwd=REPO_ROOT,
                          env={"PATH": path, "HOME": str(home)})


def test_where_the_versions_python_is_missing_the_nearest_its_pyspark_runs_on_is_taken(
        tmp_path):
    folder = tmp_path / "bin"
    path = path_without(folder, is_java_or_python)
    python311 = next(iter(sorted(Path.home().glob(".pyenv/versions/3.11*/bin/python3.11"))
                          + [p for p in (Path("/usr/bin/python3.11"),) if p.exists()]), None)
    if python311 is None:
        pytest.skip("no Python 3.11 on this machine to stand alone")
    (folder / "python3.11").symlink_to(python311)
    for version in ("6.0", "5.0"):
        result = which_python(version, path, home=tmp_path)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().endswith("3.11"), result.stdout
    os.unlink(folder / "python3.11")
    result = which_python("6.0", path, home=tmp_path)
    assert result.returncode == 2
    assert result.stdout.strip() == "none of Python 3.13 3.12 3.14 3.11 3.10"
