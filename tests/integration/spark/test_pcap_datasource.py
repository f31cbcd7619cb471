"""The `pcap` Spark data source against real captures; expected counts come from capinfos (MANIFEST.tsv)."""

from __future__ import annotations

import pytest
from pyspark.errors import PythonException
from pyspark.sql import functions as F

from netqos.decode.schema import COLUMN_NAMES, SOURCE_FILE_COLUMN
from netqos.spark.schema import pcap_source_struct

pytestmark = [pytest.mark.spark, pytest.mark.integration]

# Ethernet pcap, big-endian pcap, nanosecond pcap, two-interface pcapng, Linux SLL2.
SAMPLES = [
    "zeek-5-pings.pcap",
    "tcpdump-pptp.pcap",
    "zeek-get-to-ssh-server.pcap",
    "zeek-pcapng-multi-interface.pcapng",
    "zeek-linux_dlt_sll2.pcap",
]


@pytest.mark.parametrize("name", SAMPLES)
def test_row_count_matches_capinfos(spark, pcaps, manifest, name):
    path = pcaps / name
    df = spark.read.format("pcap").load(str(path))
    rows = df.select("frame_no", SOURCE_FILE_COLUMN).collect()
    assert len(rows) == manifest[name]
    assert sorted(r.frame_no for r in rows) == list(range(1, manifest[name] + 1))
    assert {r[SOURCE_FILE_COLUMN] for r in rows} == {str(path)}


def test_schema_is_packet_schema_plus_source_file(spark, pcaps):
    df = spark.read.format("pcap").load(str(pcaps / "zeek-5-pings.pcap"))
    assert df.columns == [*COLUMN_NAMES, SOURCE_FILE_COLUMN]
    assert [f.dataType for f in df.schema.fields] == [f.dataType for f in pcap_source_struct().fields]
    assert dict(df.dtypes)["tcp_opt_sack_blocks"] == "array<bigint>"


def test_directory_reads_every_capture_one_partition_per_file(spark, pcaps, manifest):
    df = spark.read.format("pcap").load(str(pcaps))
    assert df.rdd.getNumPartitions() == len(manifest) == 40
    per_file = {r[0].rsplit("/", 1)[1]: r[1] for r in df.groupBy(SOURCE_FILE_COLUMN).count().collect()}
    expected = {name: n for name, n in manifest.items() if n > 0}  # tcpdump-empty.pcapng has no rows to group
    assert per_file == expected
    assert sum(per_file.values()) == 8431


def test_paths_option_comma_list_and_glob(spark, pcaps, manifest):
    a, b = "zeek-5-pings.pcap", "zeek-wlanmon.pcap"
    listed = spark.read.format("pcap").option("paths", f"{pcaps / a},{pcaps / b}").load()
    assert listed.count() == manifest[a] + manifest[b] == 13
    globbed = spark.read.format("pcap").load(str(pcaps / "zeek-*.pcapng"))
    assert (
        globbed.count()
        == manifest["zeek-pcapng-multi-interface.pcapng"] + manifest["zeek-ldap-gap-data-missing.pcapng"]
    )


def test_unreadable_files_permissive_skips_failfast_raises(spark, manifest, capture_dir):
    folder = capture_dir("zeek-5-pings.pcap")
    (folder / "empty.pcap").write_bytes(b"")
    (folder / "notes.pcap").write_text("this is a text file, not a capture\n" * 4)

    df = spark.read.format("pcap").load(str(folder))
    counts = dict(df.groupBy(SOURCE_FILE_COLUMN).count().collect())
    assert counts == {str(folder / "zeek-5-pings.pcap"): manifest["zeek-5-pings.pcap"]}

    failfast = spark.read.format("pcap").option("mode", "FAILFAST").load(str(folder / "notes.pcap"))
    with pytest.raises(PythonException, match="CaptureFormatError"):
        failfast.count()


def test_missing_path_fails_at_planning(spark, tmp_path):
    with pytest.raises(Exception, match="no capture file"):
        spark.read.format("pcap").load(str(tmp_path / "nope.pcap")).count()


def test_truncated_file_keeps_rows_before_the_cut(spark, pcaps, manifest):
    df = spark.read.format("pcap").load(str(pcaps / "dpkt-truncated_dns_2.pcap"))
    assert df.count() == manifest["dpkt-truncated_dns_2.pcap"] == 1
    assert df.where(F.col("ts_ns").isNull()).count() == 0
