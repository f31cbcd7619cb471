"""The one place a SparkSession is built: Delta Lake, a local warehouse + Hive metastore, UTC, the `pcap` source.

Nothing here runs at import; `build_spark` is called by jobs, the demo and the test fixture.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from netqos.jars import require_postgresql_driver, spark_jars
from netqos.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

_LOG4J_CONF = Path(__file__).with_name("log4j2.properties")


def metastore_dir(settings: Settings) -> Path:
    """The embedded Derby metastore lives beside the warehouse (not in the cwd), so each warehouse has its own."""
    return settings.lake.warehouse_dir.resolve().parent / "metastore_db"


# The one place the metastore password travels: Hadoop's Configuration expands `${env.NAME}` when Hive reads the
# key, so no conf dict, spark-defaults.conf or command line ever holds the password itself.
METASTORE_PASSWORD_ENV = "NETQOS_LAKE__METASTORE_PASSWORD"


def metastore_conf(settings: Settings) -> dict[str, str]:
    """The Hive metastore confs: embedded Derby beside the warehouse, or PostgreSQL when `lake.metastore_url` is set.

    Derby allows one Spark process at a time (it locks metastore_db/); PostgreSQL lets jobs, `netqos sql` and the
    Thrift server share one catalog. Spark 4.2's built-in Hive 2.3.10 client lets DataNucleus create the metastore
    tables and columns on first use (nothing ran Hive's schematool, so the schema-version check is off). Foreign
    keys are left out: DataNucleus adds them lazily with ALTER TABLE while the metastore's own transaction holds
    locks on the referenced table, and on PostgreSQL that deadlocks the first CREATE TABLE (observed:
    `ALTER TABLE "TBL_PRIVS" ADD CONSTRAINT ... REFERENCES "TBLS"` waiting on an open `INSERT INTO "TABLE_PARAMS"`).
    """
    lake = settings.lake
    if lake.metastore_url is None:
        derby = f"jdbc:derby:;databaseName={metastore_dir(settings)};create=true"
        return {"spark.hadoop.javax.jdo.option.ConnectionURL": derby}
    require_postgresql_driver(settings.spark.jars_dir)  # on the classpath with the other jars of spark_jars()
    conf = {
        "spark.hadoop.javax.jdo.option.ConnectionURL": lake.metastore_url,
        "spark.hadoop.javax.jdo.option.ConnectionDriverName": "org.postgresql.Driver",
        "spark.hadoop.datanucleus.schema.autoCreateTables": "true",
        "spark.hadoop.datanucleus.schema.autoCreateColumns": "true",
        "spark.hadoop.datanucleus.schema.autoCreateConstraints": "false",
        "spark.hadoop.hive.metastore.schema.verification": "false",
    }
    if lake.metastore_user:
        conf["spark.hadoop.javax.jdo.option.ConnectionUserName"] = lake.metastore_user
    if lake.metastore_password is not None:
        conf["spark.hadoop.javax.jdo.option.ConnectionPassword"] = "${env." + METASTORE_PASSWORD_ENV + "}"
    return conf


def metastore_env(settings: Settings) -> dict[str, str]:
    """What a Spark JVM's environment needs for `metastore_conf` (the password, when there is one)."""
    password = settings.lake.metastore_password
    return {} if password is None else {METASTORE_PASSWORD_ENV: password.get_secret_value()}


def driver_java_options(settings: Settings) -> str:
    """spark.driver.extraJavaOptions; spark-submit must get it on its command line (the JVM is up before Python)."""
    metastore = metastore_dir(settings)
    java_opts = [
        # Derby writes derby.log into its system home; keep it next to the metastore, not in the cwd.
        f"-Dderby.system.home={metastore.parent}",
        f"-Dderby.stream.error.file={metastore.parent / 'derby.log'}",
    ]
    if _LOG4J_CONF.is_file():  # shipped beside this module; without it Spark's (noisier) defaults apply
        java_opts.append(f"-Dlog4j2.configurationFile={_LOG4J_CONF.as_uri()}")
    return " ".join(java_opts)


# Hadoop's Configuration expands `${env.NAME}` when S3A reads the key: the keys never sit in a conf value.
S3A_KEY_ENV = {"fs.s3a.access.key": "NETQOS_S3__ACCESS_KEY_ID", "fs.s3a.secret.key": "NETQOS_S3__SECRET_ACCESS_KEY"}


def s3a_conf(settings: Settings) -> dict[str, str]:
    """S3A confs for an s3a:// warehouse: the [s3] endpoint (path-style, as MinIO wants), and the keys from the
    environment when [s3] has them (else the default AWS chain: instance or job role)."""
    s3 = settings.s3
    conf = {"spark.hadoop.fs.s3a.endpoint.region": s3.region}
    if s3.endpoint_url:
        conf["spark.hadoop.fs.s3a.endpoint"] = s3.endpoint_url
        conf["spark.hadoop.fs.s3a.path.style.access"] = "true"
        conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] = str(s3.endpoint_url.startswith("https")).lower()
    if s3.access_key_id is not None and s3.secret_access_key is not None:
        conf["spark.hadoop.fs.s3a.aws.credentials.provider"] = "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"
        conf.update({f"spark.hadoop.{key}": "${env." + env + "}" for key, env in S3A_KEY_ENV.items()})
    return conf


def s3a_env(settings: Settings) -> dict[str, str]:
    """What a Spark JVM's environment needs for `s3a_conf`'s ${env.…} keys."""
    s3 = settings.s3
    if settings.lake.warehouse_uri is None or s3.access_key_id is None or s3.secret_access_key is None:
        return {}
    return {S3A_KEY_ENV["fs.s3a.access.key"]: s3.access_key_id.get_secret_value(),
            S3A_KEY_ENV["fs.s3a.secret.key"]: s3.secret_access_key.get_secret_value()}  # fmt: skip


def warehouse_location(settings: Settings) -> str:
    """spark.sql.warehouse.dir: the s3a:// lakehouse when set, else the local warehouse folder."""
    return settings.lake.warehouse_uri or settings.lake.warehouse_dir.resolve().as_uri()


def launched_by_spark_submit() -> bool:
    """Whether this Python process is a spark-submit driver: its JVM (and gateway) already run, master chosen."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


def spark_conf(settings: Settings) -> dict[str, str]:
    """Every conf key `build_spark` sets; `settings.spark.extra_conf` wins over these defaults."""
    conf = {
        "spark.driver.memory": settings.spark.driver_memory,
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.catalogImplementation": "hive",
        "spark.sql.warehouse.dir": warehouse_location(settings),
        "spark.driver.extraJavaOptions": driver_java_options(settings),
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": str(settings.spark.shuffle_partitions),
        # Delta rebuilds a table's state with 50 tasks by default; netqos tables have few log files, and on a
        # laptop those tasks cost more than the work (the ingest job's rerun went from ~6 s to ~2 s).
        "spark.databricks.delta.snapshotPartitions": str(settings.spark.shuffle_partitions),
        "spark.pyspark.python": sys.executable,
        # Local runs need no web UI; it costs start-up time and collides on ports between parallel test runs.
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
    }
    if not launched_by_spark_submit():
        # Under spark-submit its --master (e.g. the spark_default connection's cluster) decides; a builder conf
        # would silently override it.
        conf["spark.master"] = settings.spark.master
    jars = [str(p) for p in spark_jars(settings.spark.jars_dir)]
    if settings.spark.master.startswith("local"):
        # Executors live in the driver JVM: the classpath is enough. `spark.jars` would copy every jar (the
        # 680 MB AWS SDK bundle included) into a temp dir at each session start.
        conf["spark.driver.extraClassPath"] = os.pathsep.join(jars)
    else:
        conf["spark.jars"] = ",".join(jars)
    conf.update(metastore_conf(settings))
    if settings.lake.warehouse_uri is not None:
        conf.update(s3a_conf(settings))
    conf.update(settings.spark.extra_conf)
    return conf


def build_spark(settings: Settings, app_name: str | None = None) -> SparkSession:
    """Start (or return the running) SparkSession configured from `settings`.

    Static confs (jars, warehouse, metastore) only take effect for the first session of a process.
    Raises `netqos.jars.JarsMissingError` when `make jars` has not been run.
    """
    from pyspark.sql import SparkSession

    from netqos.spark.datasource import PcapDataSource

    # Workers must run this interpreter (the venv with numba/pyarrow), not whatever `python` is on PATH.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    if settings.spark.master.startswith("local"):
        # Bind to loopback: no hostname lookup, no "resolves to a loopback address" warning (as `make` does).
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # The JVM py4j launches inherits this environment: the metastore password reaches Hive without a conf value.
    os.environ.update(metastore_env(settings))
    os.environ.update(s3a_env(settings))
    builder = SparkSession.builder.appName(app_name or settings.spark.app_name)
    for key, value in spark_conf(settings).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(settings.spark.log_level)
    spark.dataSource.register(PcapDataSource)
    return spark
