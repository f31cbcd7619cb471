"""PACKET_SCHEMA (Arrow) as Spark types: the `pcap` source's schema and the base of the `packets` table."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from netqos.decode.schema import PACKET_SCHEMA, SOURCE_FILE_COLUMN

if TYPE_CHECKING:
    from pyspark.sql.types import StructType

# What the `pcap` source yields: every decoded column, then the file the row came from.
PCAP_SOURCE_SCHEMA = PACKET_SCHEMA.append(
    pa.field(SOURCE_FILE_COLUMN, pa.string(), nullable=True, metadata={"doc": "absolute path of the capture file"})
)


def to_spark_schema(schema: pa.Schema) -> StructType:
    """Arrow schema -> Spark StructType, keeping each field's `doc` as the Spark column comment."""
    from pyspark.sql.pandas.types import from_arrow_schema
    from pyspark.sql.types import StructField, StructType

    converted = from_arrow_schema(schema)
    fields = []
    for arrow_field, field in zip(schema, converted.fields, strict=True):
        doc = (arrow_field.metadata or {}).get(b"doc")
        metadata = {"comment": doc.decode()} if doc else {}
        fields.append(StructField(field.name, field.dataType, field.nullable, metadata))
    return StructType(fields)


def pcap_source_struct() -> StructType:
    """The `pcap` data source's schema as a Spark StructType."""
    return to_spark_schema(PCAP_SOURCE_SCHEMA)
