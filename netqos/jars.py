"""The extra Spark jars (Delta Lake, hadoop-aws, the PostgreSQL JDBC driver) that `make jars` caches outside the repo.

`infra/jars/pom.xml` decides what is in the folder; this module only lists it for `spark.jars`.
"""

from __future__ import annotations

from pathlib import Path

DELTA_JAR_GLOB = "delta-spark_*.jar"
# The S3A filesystem and what it needs; the AWS SDK bundle alone is ~680 MB.
AWS_JAR_PREFIXES = ("hadoop-aws-", "bundle-", "analyticsaccelerator-s3-", "wildfly-openssl-")
# The driver of a PostgreSQL-backed Hive metastore (Settings.lake.metastore_url); pyspark/jars has none.
POSTGRESQL_JAR_GLOB = "postgresql-*.jar"


def spark_home() -> Path:
    """The pyspark package folder: bin/ (spark-submit, spark-class, spark-sql), jars/ and conf/ of the Spark that
    `pip install pyspark` brought. Found without importing pyspark."""
    import importlib.util

    spec = importlib.util.find_spec("pyspark")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("pyspark is not installed in this interpreter: run `make deps`")
    return Path(spec.origin).resolve().parent


class JarsMissingError(FileNotFoundError):
    """The jar cache is empty or incomplete: the fix is always `make jars`."""


def spark_jars(jars_dir: Path, *, with_aws: bool = True) -> list[Path]:
    """Sorted `*.jar` paths in `jars_dir`, ready for `",".join(map(str, ...))` as `spark.jars`.

    `with_aws=False` leaves out the S3A jars, for sessions that never touch `s3a://`.
    Raises `JarsMissingError` when Delta's jar is not there.
    """
    jars_dir = jars_dir.expanduser()
    delta = sorted(jars_dir.glob(DELTA_JAR_GLOB))
    if not delta:
        raise JarsMissingError(
            f"Delta Lake jar ({DELTA_JAR_GLOB}) not found in {jars_dir}: run `make jars` "
            "(or point NETQOS_SPARK__JARS_DIR at the folder it filled)."
        )
    if len(delta) > 1:
        names = ", ".join(p.name for p in delta)
        raise JarsMissingError(f"several Delta jars in {jars_dir} ({names}): delete the folder and run `make jars`.")
    jars = sorted(jars_dir.glob("*.jar"))
    if not with_aws:
        jars = [j for j in jars if not j.name.startswith(AWS_JAR_PREFIXES)]
    return jars


def require_postgresql_driver(jars_dir: Path) -> Path:
    """The PostgreSQL JDBC driver jar in `jars_dir`; raises `JarsMissingError` when `make jars` predates it."""
    jars_dir = jars_dir.expanduser()
    found = sorted(jars_dir.glob(POSTGRESQL_JAR_GLOB))
    if not found:
        raise JarsMissingError(
            f"PostgreSQL JDBC driver ({POSTGRESQL_JAR_GLOB}) not found in {jars_dir}, needed by lake.metastore_url: "
            "run `make jars`."
        )
    return found[-1]
