"""Named lab scenarios as data: which impairments a run schedules and how much traffic it carries.

A scenario says *what* happens; the seed (netqos.lab.schedule) says *when* and *how strongly*, so two seeds of
one scenario differ in span times, magnitudes and traffic timings while keeping the same character.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Every kind the lab can apply; labels.json uses these names.
KINDS = ("congestion", "loss", "latency", "jitter", "outage", "slow_server")


@dataclass(frozen=True)
class Traffic:
    """The traffic mix; rates are kept small so a run stays CPU-light on a 2-core CI machine."""

    bulk_mb: tuple[float, float] = (0.5, 2.0)  # size range of one bulk download (MB)
    bulk_every_s: float = 6.0  # mean pause between bulk downloads
    rr_think_s: float = 0.4  # mean think time between requests on a request/response connection
    rr_requests: tuple[int, int] = (3, 12)  # requests per connection
    dns_every_s: float = 0.7  # mean pause between DNS-like queries
    rtp_pps: int = 50  # RTP-like stream: 50 packets/s x 172 bytes = G.711 with 20 ms packetization
    rtp_payload: int = 172


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    kinds: tuple[str, ...]  # one cycle of impairments; long runs repeat the cycle
    traffic: Traffic = field(default_factory=Traffic)
    cycle_s: float = 60.0  # a run gets one cycle per this many seconds (at least one)


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("mixed", "every impairment kind once per cycle", KINDS),
        Scenario(
            "congestion",
            "tbf rate drops towards the client under heavier bulk traffic",
            ("congestion", "congestion", "congestion"),
            Traffic(bulk_mb=(1.0, 3.0), bulk_every_s=3.0),
        ),
        Scenario("voip", "loss, latency and jitter on the RTP-like stream", ("loss", "latency", "jitter", "loss")),
        Scenario("outage", "client link down/up plus a slow server", ("outage", "slow_server", "outage")),
        Scenario(
            "degraded",
            "congestion, loss and outage only, under a busier mix (held-out scenario for the models)",
            ("congestion", "loss", "outage"),
            Traffic(bulk_mb=(0.8, 2.5), bulk_every_s=4.0, rr_think_s=0.3, dns_every_s=0.5),
        ),
        Scenario("baseline", "no impairments: normal traffic only", ()),
    )
}


def get_scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ValueError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}") from None
