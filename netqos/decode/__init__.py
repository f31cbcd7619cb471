"""Vectorised pcap/pcapng decoder: files in, Arrow record batches of PACKET_SCHEMA out. No Spark inside."""

from netqos.decode.readers import (
    CaptureFormatError,
    CaptureReader,
    CaptureSummary,
    decode_file,
    open_capture,
    sniff_format,
)
from netqos.decode.schema import COLUMN_NAMES, PACKET_SCHEMA, SCHEMA_VERSION, DecodeStatus

__all__ = [
    "COLUMN_NAMES",
    "PACKET_SCHEMA",
    "SCHEMA_VERSION",
    "CaptureFormatError",
    "CaptureReader",
    "CaptureSummary",
    "DecodeStatus",
    "decode_file",
    "open_capture",
    "sniff_format",
]
