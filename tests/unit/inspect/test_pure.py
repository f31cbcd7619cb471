"""The pure parts of netqos inspect: protocol labels, tshark field parsing, times, local fetch checks, the flow
summary and the output path."""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import pytest

from netqos.cli.inspect_cmd import instant_ns
from netqos.inspect.dissect import FrameInfo, app_protocol, fallback_protocol, flow_label, parse_fields
from netqos.inspect.drilldown import output_path, summarize
from netqos.inspect.fetch import CaptureUnavailable, fetch_capture
from netqos.inspect.lake import PacketRef
from netqos.settings import Settings

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("stack", "app", "fallback"),
    [
        ("eth:ethertype:ip:tcp:http:data-text-lines", "http", "tcp"),
        ("eth:ethertype:ip:tcp:http:data-text-lines:xml", "http", "tcp"),
        ("eth:ethertype:ip:udp:dns", "dns", "udp"),
        ("sll:ethertype:ipv6:udp:sip:sdp", "sip", "udp"),
        ("eth:ethertype:ip:tcp", None, "tcp"),
        ("eth:ethertype:ip:tcp:data", None, "tcp"),
        ("eth:ethertype:ip:icmp:data", None, "icmp"),
        ("eth:ethertype:arp", None, "arp"),
        ("", None, None),
    ],
)
def test_app_protocol_and_fallback(stack: str, app: str | None, fallback: str | None) -> None:
    assert app_protocol(stack) == app
    assert fallback_protocol(stack) == fallback


def test_flow_label_is_the_most_common_application_layer() -> None:
    tcp, http = "eth:ethertype:ip:tcp", "eth:ethertype:ip:tcp:http"
    assert flow_label([tcp, tcp, http, tcp, http + ":data-text-lines"]) == "HTTP"
    assert flow_label([tcp, tcp]) == "TCP"
    assert flow_label(["eth:ethertype:ip:icmp:data"] * 2) == "ICMP"
    assert flow_label(["eth:ethertype:ip:udp:rtp", "eth:ethertype:ip:udp:rtcp", "eth:ethertype:ip:udp:rtp"]) == "RTP"
    assert flow_label([]) == "?"


def test_parse_fields() -> None:
    text = "1\teth:ethertype:ip:tcp\t0\t\n2\teth:ethertype:ip:udp:dns\t\t3\n3\teth:ethertype:arp\t\t\n\n"
    assert parse_fields(text) == [
        FrameInfo(1, "eth:ethertype:ip:tcp", "tcp 0"),
        FrameInfo(2, "eth:ethertype:ip:udp:dns", "udp 3"),
        FrameInfo(3, "eth:ethertype:arp", ""),
    ]


def test_instant_ns() -> None:
    assert instant_ns("2004-05-13T10:17:10Z") == 1084443430 * 10**9
    assert instant_ns("2004-05-13T12:17:10+02:00") == 1084443430 * 10**9
    assert instant_ns("2004-05-13 10:17:10.25") == 1084443430_250_000_000  # no offset: UTC
    assert instant_ns("1084443430.5") == 1084443430_500_000_000
    assert instant_ns("1084443430123456789") == 1084443430123456789
    with pytest.raises(argparse.ArgumentTypeError):
        instant_ns("yesterday")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_fetch_local_checks_presence_and_content(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    good, gone, other = tmp_path / "good.pcap", tmp_path / "gone.pcap", tmp_path / "other.pcap"
    good.write_bytes(b"capture bytes")
    other.write_bytes(b"capture bytes, appended to later")
    sha = _sha(b"capture bytes")

    def no_s3() -> None:
        raise AssertionError("no s3:// path: the client must not be built")

    assert fetch_capture(sha, [str(gone), str(good)], settings, no_s3) == good  # the copy that still holds it
    with pytest.raises(CaptureUnavailable) as err:
        fetch_capture(sha, [str(gone), str(other)], settings, no_s3)
    message = str(err.value)
    assert f"{gone}: missing" in message
    assert f"{other}: changed since ingest (sha256 now {_sha(other.read_bytes())})" in message
    assert sha in message
    with pytest.raises(CaptureUnavailable, match="no ingested path"):
        fetch_capture(sha, [], settings, no_s3)


def _ref(frame: int, flow: int | None, length: int, retrans: bool = False, sha: str = "a") -> PacketRef:
    return PacketRef(sha, frame, frame * 1000, "edge-1", flow, "10.0.0.1:1000", "10.0.0.2:80", 6, length, retrans)


def test_summarize_groups_by_flow_and_labels_them() -> None:
    packets = [_ref(1, 7, 60), _ref(2, 7, 1500, retrans=True), _ref(3, 9, 100), _ref(4, None, 42), _ref(5, 7, 60)]
    frames = {
        ("a", 1): FrameInfo(1, "eth:ethertype:ip:tcp", "tcp 0"),
        ("a", 2): FrameInfo(2, "eth:ethertype:ip:tcp:http", "tcp 0"),
        ("a", 3): FrameInfo(3, "eth:ethertype:ip:udp:dns", "udp 0"),
        ("a", 4): FrameInfo(4, "eth:ethertype:arp", ""),
        ("a", 5): FrameInfo(5, "eth:ethertype:ip:tcp", "tcp 0"),
    }
    rows = summarize(packets, frames)
    assert [(r.flow_id, r.packets, r.bytes, r.retransmissions, r.app_protocol, r.streams) for r in rows] == [
        (7, 3, 1620, 1, "HTTP", ("tcp 0",)),
        (9, 1, 100, 0, "DNS", ("udp 0",)),
        (None, 1, 42, 0, "ARP", ()),
    ]


def test_output_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert output_path(None, "flow-5", "pcap") == tmp_path / "netqos-inspect-flow-5.pcap"
    assert output_path(tmp_path, "flow-5", "pcapng") == tmp_path / "netqos-inspect-flow-5.pcapng"
    assert output_path(tmp_path / "x.pcap", "flow-5", "pcapng") == tmp_path / "x.pcap"


def test_cli_targets() -> None:
    from netqos.cli.inspect_cmd import target_of
    from netqos.cli.main import build_parser
    from netqos.inspect.lake import AnomalyTarget, FlowTarget, RangeTarget

    parse = build_parser().parse_args
    args = parse(["-v", "inspect", "flow", "-4211687722337411794", "--verbose", "--max-packets", "10"])
    assert target_of(args) == FlowTarget(-4211687722337411794)
    assert args.verbose and args.tree and args.max_packets == 10  # netqos -v (logging) and inspect --verbose (tree)
    args = parse(
        ["inspect", "anomaly", "--sensor", "edge-1", "--window-start", "2004-05-13T10:17:10Z", "--top-flows", "3"]
    )
    assert target_of(args) == AnomalyTarget("edge-1", 1084443430 * 10**9, None) and args.top_flows == 3
    assert not args.verbose and not args.tree
    args = parse(["inspect", "range", "--from", "1084443430", "--to", "1084443431.5", "--host", "10.0.0.1",
                  "--host", "10.0.0.2", "--port", "53"])  # fmt: skip
    assert target_of(args) == RangeTarget(
        1084443430 * 10**9, 1084443431_500_000_000, None, ("10.0.0.1", "10.0.0.2"), (53,)
    )
    args = parse(["inspect", "range", "--from", "1", "--to", "2", "--sensor", "edge-9"])
    assert target_of(args).sensor_id == "edge-9"
    assert getattr(args, "sensor", None) is None  # the target's sensor is not settings.sensor_id (settings_from_args)
