"""Render docs/schema/packets.md from the schema (`python -m netqos.decode.schema_doc > docs/schema/packets.md`)."""

from __future__ import annotations

from netqos.decode.schema import COLUMNS, SCHEMA_VERSION, SOURCE_FILE_COLUMN, STATUS_TEXT, DecodeStatus


def render_markdown() -> str:
    lines = [
        f"# `packets` schema, version {SCHEMA_VERSION}",
        "",
        "One row per captured frame, produced by `netqos.decode` (Arrow record batches), `netqos decode`",
        "(Parquet) and the Spark `pcap` data source. Generated from `netqos/decode/schema.py`; a unit test",
        "fails when this file and the code disagree.",
        "",
        "Null means the layer is absent or could not be decoded; it never stands for 0. Ports are in",
        "`src_port`/`dst_port` for both TCP and UDP. MAC addresses are lower-case colon-separated text.",
        f"`netqos decode` and the Spark tables add `{SOURCE_FILE_COLUMN}` (the capture file's path).",
        "",
        "| column | type | meaning |",
        "|---|---|---|",
    ]
    lines += [f"| `{name}` | {dtype} | {doc} |" for name, dtype, doc in COLUMNS]
    lines += [
        "",
        "## `decode_status`",
        "",
        "`ok`, or `<kind>:<layer>` naming the first layer that could not be finished:",
        "`truncated` = the captured bytes end inside that header (snaplen or a cut file),",
        "`malformed` = the header is present but invalid, `unsupported` = no decoder for that link type.",
        "Fields of the layers before it are filled; fields from that layer on are null.",
        "",
        "| code | text |",
        "|---|---|",
    ]
    lines += [f"| {int(s)} | `{STATUS_TEXT[s]}` |" for s in sorted(DecodeStatus)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render_markdown(), end="")
