"""Names and addresses of the lab topology, and what each impairment says it affects (no namespaces needed)."""

from __future__ import annotations

import pytest

from netqos.lab.impair import affected
from netqos.lab.scenarios import KINDS
from netqos.lab.schedule import Span
from netqos.lab.topology import Topology


def test_names_fit_the_kernel_limit_and_addresses_are_own() -> None:
    topo = Topology("nql1234567")
    for dev in (topo.dev_client, topo.dev_router_c, topo.dev_router_s, topo.dev_server):
        assert len(dev) <= 15 and dev.startswith("nql1234567")
    assert set(topo.ns.values()) == {"nql1234567-c", "nql1234567-r", "nql1234567-s"}
    a = topo.addr
    assert all(x.startswith("10.203.") for x in (a.client, a.router_client_side, a.router_server_side, a.server))


@pytest.mark.parametrize("prefix", ["", "nql12345678", "nq-1", "nq 1"])
def test_bad_prefixes(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        Topology(prefix)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_names_hosts_and_flows_in_the_lab_range(kind: str) -> None:
    topo = Topology("nqlu1")
    info = affected(Span(kind, 1.0, 2.0), topo)
    assert info["hosts"] and info["flows"]
    for flow in info["flows"]:
        assert set(flow) == {"proto", "src", "src_port", "dst", "dst_port"}
        assert all(v is None or v.startswith("10.203.") for v in (flow["src"], flow["dst"]))
