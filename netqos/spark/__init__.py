"""Spark plumbing: the one SparkSession builder, the `pcap` data source, Arrow -> Spark schema conversion.

Importing this package starts nothing and does not import pyspark; `build_spark` does both.
"""

from netqos.spark.session import build_spark

__all__ = ["build_spark"]
