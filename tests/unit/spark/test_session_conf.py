"""What build_spark would configure, checked without starting a JVM."""

from __future__ import annotations

import subprocess
import sys

import pytest

from netqos.settings import LakeSettings, Settings, SparkSettings
from netqos.spark.session import metastore_dir, spark_conf

pytestmark = pytest.mark.unit


@pytest.fixture
def settings(tmp_path):
    jars = tmp_path / "jars"
    jars.mkdir()
    for name in ("delta-spark_4.2_2.13-4.4.0.jar", "delta-storage-4.4.0.jar"):
        (jars / name).write_bytes(b"")
    return Settings(
        lake=LakeSettings(warehouse_dir=tmp_path / "lake" / "warehouse"),
        spark=SparkSettings(jars_dir=jars, shuffle_partitions=3, extra_conf={"spark.ui.enabled": "true"}),
    )


def test_local_session_conf(settings, tmp_path):
    conf = spark_conf(settings)
    assert conf["spark.sql.warehouse.dir"] == (tmp_path / "lake" / "warehouse").as_uri()
    assert metastore_dir(settings) == tmp_path / "lake" / "metastore_db"
    assert f"databaseName={tmp_path / 'lake' / 'metastore_db'};" in conf["spark.hadoop.javax.jdo.option.ConnectionURL"]
    assert f"-Dderby.system.home={tmp_path / 'lake'}" in conf["spark.driver.extraJavaOptions"]
    assert conf["spark.sql.catalog.spark_catalog"] == "org.apache.spark.sql.delta.catalog.DeltaCatalog"
    assert conf["spark.sql.session.timeZone"] == "UTC"
    assert conf["spark.sql.shuffle.partitions"] == "3"
    assert conf["spark.pyspark.python"] == sys.executable
    # local mode: jars on the classpath, not shipped (copied) through spark.jars
    assert "spark.jars" not in conf
    assert conf["spark.driver.extraClassPath"].split(":") == [
        str(settings.spark.jars_dir / "delta-spark_4.2_2.13-4.4.0.jar"),
        str(settings.spark.jars_dir / "delta-storage-4.4.0.jar"),
    ]
    assert conf["spark.ui.enabled"] == "true"  # extra_conf wins


def test_cluster_session_ships_jars(settings):
    cluster = settings.model_copy(update={"spark": settings.spark.model_copy(update={"master": "spark://h:7077"})})
    conf = spark_conf(cluster)
    assert conf["spark.jars"].count(".jar") == 2 and "spark.driver.extraClassPath" not in conf


def test_spark_submit_chooses_the_master(settings, monkeypatch):
    """Under spark-submit (its JVM's gateway is up) --master decides: a builder conf would override the cluster."""
    monkeypatch.delenv("PYSPARK_GATEWAY_PORT", raising=False)
    assert spark_conf(settings)["spark.master"] == "local[*]"
    monkeypatch.setenv("PYSPARK_GATEWAY_PORT", "40000")
    assert "spark.master" not in spark_conf(settings)


def test_s3a_warehouse_keeps_keys_out_of_the_conf(settings, monkeypatch):
    from pydantic import SecretStr

    from netqos.settings import S3Settings
    from netqos.spark.session import s3a_env

    lake = settings.lake.model_copy(update={"warehouse_uri": "s3a://netqos-lakehouse/warehouse"})
    s3 = S3Settings(endpoint_url="http://127.0.0.1:9000", access_key_id=SecretStr("AKIDX"),
                    secret_access_key=SecretStr("s3cr3t-value"))  # fmt: skip
    remote = settings.model_copy(update={"lake": lake, "s3": s3})
    conf = spark_conf(remote)
    assert conf["spark.sql.warehouse.dir"] == "s3a://netqos-lakehouse/warehouse"
    assert conf["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:9000"
    assert conf["spark.hadoop.fs.s3a.path.style.access"] == "true"
    assert conf["spark.hadoop.fs.s3a.secret.key"] == "${env.NETQOS_S3__SECRET_ACCESS_KEY}"
    assert not any("s3cr3t-value" in v for v in conf.values())
    assert s3a_env(remote)["NETQOS_S3__SECRET_ACCESS_KEY"] == "s3cr3t-value"
    with pytest.raises(ValueError, match="s3a://"):
        LakeSettings(warehouse_uri="/not/a/uri")


def test_import_starts_nothing():
    code = "import sys, netqos.spark, netqos.lake; assert 'pyspark' not in sys.modules, 'pyspark imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
