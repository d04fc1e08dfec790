"""Where the Flink side lives: the ``.venv-flink`` interpreter, Flink's home, and the jars a job ships.

PyFlink cannot share a virtualenv with PySpark (each pins its own py4j), so ``make flink`` makes
``.venv-flink`` and then runs ``python -m airflow_mlplat.realtime.flink_env build`` from the main venv:
that compiles the ``mlplat-parquet`` format (``java/``) against the Flink jars and copies the Parquet
and Hadoop client jars it needs out of the pyspark wheel into ``.venv-flink/mlplat-jars/``. Jobs add
every jar there to ``pipeline.jars``, so a remote cluster receives them with the job.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
JAVA_SOURCES = Path(__file__).with_name("java")
JOB_SCRIPT = Path(__file__).with_name("flink_job.py")
STREAMING_FTRL_SCRIPT = Path(__file__).with_name("streaming_ftrl.py")
FORMAT_JAR = "mlplat-parquet-format.jar"
# Out of pyspark's jars: parquet-mr, the Hadoop client it is written against (shaded), its codecs,
# and jts (parquet 1.17's geospatial statistics load it for every column).
RUNTIME_JAR_PREFIXES = (
    "parquet-column-",
    "parquet-common-",
    "parquet-encoding-",
    "parquet-format-structures-",
    "parquet-hadoop-",
    "parquet-jackson-",
    "hadoop-client-api-",
    "hadoop-client-runtime-",
    "snappy-java-",
    "zstd-jni-",
    "jts-core-",
)


class FlinkEnvironmentError(RuntimeError):
    """``.venv-flink`` or its jars are missing or broken."""


def flink_venv() -> Path:
    return Path(os.environ.get("MLPLAT_FLINK_VENV", ROOT / ".venv-flink"))


def flink_python() -> Path:
    python = flink_venv() / "bin" / "python"
    if not python.exists():
        raise FlinkEnvironmentError(f"no PyFlink interpreter at {python}: run `make flink` (or set MLPLAT_FLINK_VENV)")
    return python


def flink_home() -> Path:
    """The pyflink package folder: Flink's lib/, opt/, bin/ and conf/ as the wheel ships them."""
    matches = sorted((flink_venv() / "lib").glob("python3*/site-packages/pyflink"))
    if not matches:
        raise FlinkEnvironmentError(f"pyflink is not installed in {flink_venv()}: run `make flink`")
    return matches[0]


def jars_dir() -> Path:
    return flink_venv() / "mlplat-jars"


def job_jars() -> list[Path]:
    """The jars a behaviour-log job ships: the format, then its dependencies."""
    directory = jars_dir()
    if not (directory / FORMAT_JAR).exists():
        raise FlinkEnvironmentError(f"{directory / FORMAT_JAR} is missing: run `make flink`")
    return [directory / FORMAT_JAR, *sorted(p for p in directory.glob("*.jar") if p.name != FORMAT_JAR)]


def pipeline_jars() -> str:
    """``pipeline.jars``: ``;``-separated file URLs."""
    return ";".join(jar.as_uri() for jar in job_jars())


def _spark_jars() -> Path:
    import pyspark  # the main venv's wheel carries parquet-mr and the Hadoop client

    return Path(pyspark.__file__).parent / "jars"


def build(destination: Path | None = None) -> Path:
    """Compile the format and collect its runtime jars into ``destination`` (default ``jars_dir()``)."""
    destination = destination or jars_dir()
    spark_jars = _spark_jars()
    runtime = [jar for jar in sorted(spark_jars.glob("*.jar")) if jar.name.startswith(RUNTIME_JAR_PREFIXES)]
    missing = [p for p in RUNTIME_JAR_PREFIXES if not any(j.name.startswith(p) for j in runtime)]
    if missing:
        raise FlinkEnvironmentError(f"{spark_jars} lacks {', '.join(p + '*.jar' for p in missing)}")
    flink_lib = flink_home() / "lib"
    classpath = os.pathsep.join([str(flink_lib / "*"), *map(str, runtime)])
    javac = Path(os.environ["JAVA_HOME"], "bin", "javac") if os.environ.get("JAVA_HOME") else shutil.which("javac")
    if not javac or not Path(javac).exists():
        raise FlinkEnvironmentError(
            "javac not found: building the mlplat-parquet format needs a JDK 17 "
            "(sudo apt-get install -y openjdk-17-jdk-headless), on PATH or in JAVA_HOME"
        )
    destination.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mlplat-parquet-") as scratch:
        classes = Path(scratch) / "classes"
        sources = sorted(str(p) for p in (JAVA_SOURCES / "src").rglob("*.java"))
        done = subprocess.run(
            [str(javac), "--release", "17", "-nowarn", "-d", str(classes), "-cp", classpath, *sources],
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise FlinkEnvironmentError(f"javac failed:\n{done.stdout}{done.stderr}")
        jar = Path(scratch) / FORMAT_JAR
        with zipfile.ZipFile(jar, "w", zipfile.ZIP_DEFLATED) as archive:
            for root in (classes, JAVA_SOURCES / "resources"):
                for path in sorted(root.rglob("*")):
                    if path.is_file():
                        archive.write(path, path.relative_to(root).as_posix())
        for old in destination.glob("*.jar"):
            old.unlink()
        for source in runtime:
            shutil.copy2(source, destination / source.name)
        shutil.move(str(jar), destination / FORMAT_JAR)
    return destination


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args != ["build"]:
        print("usage: python -m airflow_mlplat.realtime.flink_env build", file=sys.stderr)
        return 2
    try:
        print(f"Flink job jars in {build()}")
    except FlinkEnvironmentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
