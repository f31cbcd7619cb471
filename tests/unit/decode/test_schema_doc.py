from pathlib import Path

import pytest

from netqos.decode.schema import COLUMN_NAMES, PACKET_SCHEMA, STATUS_TEXT, DecodeStatus
from netqos.decode.schema_doc import render_markdown

pytestmark = pytest.mark.unit

DOC = Path(__file__).resolve().parents[3] / "docs" / "schema" / "packets.md"


def test_schema_doc_is_current():
    regenerate = "python -m netqos.decode.schema_doc > docs/schema/packets.md"
    assert DOC.read_text() == render_markdown(), f"docs are stale; regenerate: {regenerate}"


def test_required_columns_present():
    required = """ts_ns frame_no cap_len wire_len link_type eth_src eth_dst eth_type vlan_id ip_version ip_src ip_dst
    ip_proto ip_ttl ip_len ip_dscp ip_ecn ip_id ip_flags_df ip_flags_mf ip_frag_offset src_port dst_port tcp_flags
    tcp_seq tcp_ack tcp_window tcp_opt_mss tcp_opt_wscale tcp_opt_sack_perm tcp_opt_sack_blocks tcp_opt_ts_val
    tcp_opt_ts_ecr l4_payload_len icmp_type icmp_code rt_tsft rt_flags rt_rate_mbps rt_channel_freq
    rt_dbm_antsignal rt_dbm_antnoise rt_mcs_index wlan_fc_type wlan_fc_subtype wlan_retry wlan_to_ds wlan_from_ds
    wlan_addr1 wlan_addr2 wlan_addr3 wlan_bssid wlan_seq wlan_qos_tid decode_status""".split()
    assert not set(required) - set(COLUMN_NAMES)
    assert len(set(COLUMN_NAMES)) == len(COLUMN_NAMES)
    assert PACKET_SCHEMA.metadata[b"netqos.schema_version"] == b"1"


def test_every_status_has_text():
    assert set(STATUS_TEXT) == set(DecodeStatus)
    assert list(sorted(DecodeStatus)) == list(range(len(DecodeStatus)))  # columns.py indexes the dictionary by code
