"""Smoke check for `make jars`: start Spark with the cached jars, write a Delta table, read it back.

Usage: .venv/bin/python scripts/check_delta.py [--jars-dir DIR] [--without-aws]
Prints the SparkSession startup time so the cost of the (large) AWS SDK bundle on the classpath stays visible.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from netqos.jars import spark_jars
from netqos.settings import Settings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jars-dir", type=Path, default=None)
    parser.add_argument("--without-aws", action="store_true", help="leave hadoop-aws and the AWS SDK bundle out")
    parser.add_argument(
        "--snapshot-partitions", type=int, default=None, help="spark.databricks.delta.snapshotPartitions (Delta: 50)"
    )
    args = parser.parse_args()

    jars_dir = args.jars_dir or Settings().spark.jars_dir
    jars = spark_jars(jars_dir, with_aws=not args.without_aws)

    from pyspark.sql import SparkSession

    t0 = time.perf_counter()
    builder = (
        SparkSession.builder.master("local[2]")
        .appName("netqos-check-delta")
        .config("spark.jars", ",".join(str(j) for j in jars))
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
    )
    if args.snapshot_partitions:
        builder = builder.config("spark.databricks.delta.snapshotPartitions", str(args.snapshot_partitions))
    spark = builder.getOrCreate()
    startup = time.perf_counter() - t0
    try:
        with tempfile.TemporaryDirectory(prefix="netqos-delta-") as tmp:
            path = str(Path(tmp) / "t")
            t1 = time.perf_counter()
            spark.range(0, 1000).withColumnRenamed("id", "n").write.format("delta").save(path)
            spark.range(1000, 1010).withColumnRenamed("id", "n").write.format("delta").mode("append").save(path)
            got = spark.read.format("delta").load(path)
            count, total = got.count(), got.agg({"n": "sum"}).first()[0]  # type: ignore[index]
            versions = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").count()
            roundtrip = time.perf_counter() - t1
    finally:
        spark.stop()
    expected_total = sum(range(1010))
    ok = count == 1010 and total == expected_total and versions == 2
    print(
        f"jars={len(jars)} aws={'no' if args.without_aws else 'yes'} startup={startup:.2f}s "
        f"snapshotPartitions={args.snapshot_partitions or 'default'} write+read={roundtrip:.2f}s "
        f"rows={count} sum={total} versions={versions} -> {'OK' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
