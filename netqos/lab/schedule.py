"""Seeded impairment schedule: non-overlapping spans inside a run, with seeded magnitudes.

The usable time (after a warm-up, before a cool-down) is cut into equal slots, one span per slot; each span sits
inside its slot with at least GAP_S clear on both sides, so spans never overlap or touch and the traffic has a
clean "normal" stretch between them to compare against. Pure function of (scenario, duration, seed, slot_s).

By default a run gets one cycle of the scenario's kinds per `cycle_s` and the slots are as long as that makes
them (spans of a few seconds, at most MAX_SPAN_S). `slot_s` asks for slots of about that length instead (as
many as fit, the cycle repeated as needed), for evaluating long windows: the spans then cover 50-85 % of a slot
(up to SLOT_SPAN_MAX of it, no MAX_SPAN_S cap), with normal traffic between them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from netqos.lab.scenarios import Scenario

WARMUP_S = 4.0  # connections and the capture settle before the first impairment
COOLDOWN_S = 3.0  # the last span ends before the traffic stops
GAP_S = 0.5  # clear time on each side of a span inside its slot
MIN_SLOT_S = 4.0  # below this a span would be too short to show in 1 s windows; such kinds are dropped
MAX_SPAN_S = 20.0  # cap without slot_s; with slot_s the cap is the slot's share below
SLOT_SPAN_MIN, SLOT_SPAN_MAX = 0.5, 0.85  # a span's share of its slot (before the GAP_S margins)


@dataclass(frozen=True)
class Span:
    kind: str
    start_s: float  # offset from the run start
    end_s: float
    params: dict[str, Any] = field(default_factory=dict)


def _params(kind: str, rng: random.Random) -> dict[str, Any]:
    """Seeded magnitudes; ranges are wide enough to matter in the capture (see docs/lab.md)."""
    if kind == "congestion":
        rate_kbit = rng.choice((1000, 2000, 3000, 4000))
        # ~100-200 ms of queue at that rate: queueing delay first, then tail drops when it overflows.
        limit = int(rate_kbit * 1000 / 8 * rng.uniform(0.1, 0.2))
        return {"qdisc": "tbf", "rate_kbit": rate_kbit, "burst_bytes": 10_000, "limit_bytes": limit}
    if kind == "loss":
        return {"drop_probability": round(rng.uniform(0.2, 0.5), 3)}
    if kind == "latency":
        return {"delay_ms": round(rng.uniform(40.0, 200.0), 1)}
    if kind == "jitter":
        return {"delay_ms": 10.0, "jitter_ms": round(rng.uniform(20.0, 60.0), 1)}
    if kind == "outage":
        return {"action": "link down/up"}
    if kind == "slow_server":
        return {"response_delay_ms": round(rng.uniform(200.0, 800.0), 1)}
    raise ValueError(f"unknown impairment kind {kind!r}")


def make_schedule(scenario: Scenario, duration_s: float, seed: int, slot_s: float | None = None) -> list[Span]:
    if slot_s is not None and slot_s < MIN_SLOT_S:
        raise ValueError(f"slot length {slot_s} s is below the minimum {MIN_SLOT_S} s")
    # The default keeps the historic seed string, so runs without slot_s reproduce their old schedules.
    tag = "" if slot_s is None else f":slot{slot_s:g}"
    rng = random.Random(f"schedule:{scenario.name}:{seed}{tag}")
    usable = duration_s - WARMUP_S - COOLDOWN_S
    if not scenario.kinds or usable < MIN_SLOT_S:
        return []
    if slot_s is None:
        cycles = max(1, int(duration_s // scenario.cycle_s))
        n_slots = max(1, int(usable // MIN_SLOT_S))
        max_span = MAX_SPAN_S
    else:
        n_slots = max(1, round(usable / slot_s))
        cycles = -(-n_slots // len(scenario.kinds))  # ceil: enough kinds for every slot
        max_span = slot_s * SLOT_SPAN_MAX * 1.5  # only bounds a slot stretched by the rounding of n_slots
    kinds: list[str] = []
    for _ in range(cycles):
        cycle = list(scenario.kinds)
        rng.shuffle(cycle)  # seeds differ in the order too
        kinds += cycle
    kinds = kinds[:n_slots]
    slot = usable / len(kinds)
    spans = []
    for i, kind in enumerate(kinds):
        lo = WARMUP_S + i * slot + GAP_S
        room = slot - 2 * GAP_S
        length = min(max_span, room * rng.uniform(SLOT_SPAN_MIN, SLOT_SPAN_MAX))
        start = lo + rng.uniform(0.0, room - length)
        spans.append(Span(kind, round(start, 3), round(start + length, 3), _params(kind, rng)))
    return spans
