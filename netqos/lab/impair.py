"""Applying and reverting one impairment span on a running topology, and naming what it affects.

Where each kind acts (the kernel here has tbf and htb but no netem, so per-packet delay lives in user space):
    congestion   tbf on the router's egress towards the client (rate drop: queueing, then tail drops)
    loss/latency/jitter   the user-space UDP relay on the router, for the RTP-like stream only
    outage       the router's client-side veth down, then up
    slow_server  the server delays every request/response answer
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from netqos.lab.schedule import Span
from netqos.lab.topology import Topology
from netqos.lab.traffic import BULK_PORT, DNS_PORT, RR_PORT, RTP_PORT

RELAY_KINDS = {"loss": "drop_probability", "latency": "delay_ms", "jitter": "jitter_ms"}


def write_control(path: Path, values: dict[str, Any]) -> None:
    """Atomic replace: the traffic programs poll the file and must never read half of it."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(values))
    os.replace(tmp, path)


class Impairer:
    def __init__(self, topo: Topology, control_dir: Path) -> None:
        self.topo = topo
        self.relay_control = control_dir / "relay.json"
        self.server_control = control_dir / "server.json"
        for path in (self.relay_control, self.server_control):
            write_control(path, {})

    def apply(self, span: Span) -> None:
        p, t = span.params, self.topo
        if span.kind == "congestion":
            tbf = [
                "tbf",
                "rate",
                f"{p['rate_kbit']}kbit",
                "burst",
                str(p["burst_bytes"]),
                "limit",
                str(p["limit_bytes"]),
            ]
            t.run("router", ["tc", "qdisc", "replace", "dev", t.dev_router_c, "root", *tbf])
        elif span.kind in RELAY_KINDS:
            write_control(self.relay_control, dict(p))
        elif span.kind == "outage":
            t.run("router", ["ip", "link", "set", t.dev_router_c, "down"])
        elif span.kind == "slow_server":
            write_control(self.server_control, dict(p))
        else:
            raise ValueError(f"unknown impairment kind {span.kind!r}")

    def revert(self, span: Span) -> None:
        t = self.topo
        if span.kind == "congestion":
            t.run("router", ["tc", "qdisc", "del", "dev", t.dev_router_c, "root"])
        elif span.kind in RELAY_KINDS:
            write_control(self.relay_control, {})
        elif span.kind == "outage":
            t.run("router", ["ip", "link", "set", t.dev_router_c, "up"])
        elif span.kind == "slow_server":
            write_control(self.server_control, {})


def affected(span: Span, topo: Topology) -> dict[str, Any]:
    """Hosts and flows (proto, addresses, ports; null = any) a span impairs, for labels.json."""
    a = topo.addr
    rtp_out = {"proto": "udp", "src": a.router_server_side, "src_port": RTP_PORT, "dst": a.server, "dst_port": RTP_PORT}
    rtp_in = {"proto": "udp", "src": a.client, "src_port": RTP_PORT, "dst": a.router_client_side, "dst_port": RTP_PORT}
    if span.kind == "congestion":
        to_client = [
            {"proto": "tcp", "src": a.server, "src_port": BULK_PORT, "dst": a.client, "dst_port": None},
            {"proto": "tcp", "src": a.server, "src_port": RR_PORT, "dst": a.client, "dst_port": None},
            {"proto": "udp", "src": a.server, "src_port": DNS_PORT, "dst": a.client, "dst_port": None},
        ]
        return {"hosts": [a.client, a.server], "flows": to_client, "where": f"router {topo.dev_router_c} egress"}
    if span.kind in RELAY_KINDS:
        return {"hosts": [a.client, a.server], "flows": [rtp_out], "where": "router UDP relay"}
    if span.kind == "outage":
        every = [{"proto": None, "src": a.client, "src_port": None, "dst": None, "dst_port": None},
                 {"proto": None, "src": None, "src_port": None, "dst": a.client, "dst_port": None}]  # fmt: skip
        return {"hosts": [a.client], "flows": [*every, rtp_in, rtp_out], "where": f"router {topo.dev_router_c} down"}
    if span.kind == "slow_server":
        flow = {"proto": "tcp", "src": a.client, "src_port": None, "dst": a.server, "dst_port": RR_PORT}
        return {"hosts": [a.server], "flows": [flow], "where": "server request/response handler"}
    raise ValueError(f"unknown impairment kind {span.kind!r}")
