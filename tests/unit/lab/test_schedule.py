"""The impairment schedule: seeded determinism, seeds differ, spans inside the run and never overlapping."""

from __future__ import annotations

import itertools

import pytest

from netqos.lab import schedule as sch
from netqos.lab.scenarios import KINDS, SCENARIOS, get_scenario


@pytest.mark.parametrize("name", sorted(SCENARIOS))
@pytest.mark.parametrize("duration", [10.0, 40.0, 61.0, 300.0, 3600.0])
@pytest.mark.parametrize("seed", [0, 1, 7, 12345])
def test_spans_inside_run_and_not_overlapping(name: str, duration: float, seed: int) -> None:
    spans = sch.make_schedule(get_scenario(name), duration, seed)
    assert spans == sch.make_schedule(get_scenario(name), duration, seed)  # deterministic
    for span in spans:
        assert span.kind in KINDS
        assert sch.WARMUP_S <= span.start_s < span.end_s <= duration - sch.COOLDOWN_S
        assert span.end_s - span.start_s >= 0.5 * (sch.MIN_SLOT_S - 2 * sch.GAP_S) - 1e-6
        assert span.end_s - span.start_s <= sch.MAX_SPAN_S
    for a, b in itertools.pairwise(spans):
        assert b.start_s - a.end_s >= 2 * sch.GAP_S - 1e-6  # a clean gap between spans


def test_seeds_differ() -> None:
    mixed = get_scenario("mixed")
    runs = {
        tuple((s.kind, s.start_s, str(s.params)) for s in sch.make_schedule(mixed, 120.0, seed)) for seed in range(8)
    }
    assert len(runs) == 8


def test_mixed_40s_has_every_kind() -> None:
    # The CI lab run (tests/integration/lab) relies on this.
    kinds = {s.kind for s in sch.make_schedule(get_scenario("mixed"), 40.0, 1)}
    assert kinds == set(KINDS)


def test_long_runs_repeat_the_cycle_and_short_runs_truncate() -> None:
    voip = get_scenario("voip")
    assert len(sch.make_schedule(voip, 600.0, 3)) == 10 * len(voip.kinds)
    assert len(sch.make_schedule(voip, 12.0, 3)) == 1
    assert sch.make_schedule(get_scenario("baseline"), 600.0, 3) == []
    assert sch.make_schedule(voip, 5.0, 3) == []


def test_magnitudes_are_seeded_and_in_range() -> None:
    for seed in range(20):
        for span in sch.make_schedule(get_scenario("mixed"), 60.0, seed):
            p = span.params
            if span.kind == "loss":
                assert 0.2 <= p["drop_probability"] <= 0.5
            elif span.kind == "congestion":
                assert p["rate_kbit"] in (1000, 2000, 3000, 4000) and p["limit_bytes"] > p["burst_bytes"] // 2


def test_unknown_scenario() -> None:
    with pytest.raises(ValueError, match="unknown scenario"):
        get_scenario("nope")


@pytest.mark.parametrize("name", sorted(SCENARIOS))
@pytest.mark.parametrize("slot", [10.0, 60.0, 90.0])
@pytest.mark.parametrize("duration", [30.0, 300.0, 600.0, 3600.0])
@pytest.mark.parametrize("seed", [0, 1, 15])
def test_slot_seconds_spans_fill_their_slots(name: str, slot: float, duration: float, seed: int) -> None:
    scenario = get_scenario(name)
    spans = sch.make_schedule(scenario, duration, seed, slot_s=slot)
    assert spans == sch.make_schedule(scenario, duration, seed, slot_s=slot)  # deterministic
    if not scenario.kinds:
        assert spans == []
        return
    usable = duration - sch.WARMUP_S - sch.COOLDOWN_S
    assert len(spans) == max(1, round(usable / slot))
    actual_slot = usable / len(spans)
    assert abs(actual_slot - slot) <= slot / 2 or len(spans) == 1  # about the asked length
    for i, span in enumerate(spans):
        assert span.kind in scenario.kinds
        lo = sch.WARMUP_S + i * actual_slot
        assert lo + sch.GAP_S - 1e-3 <= span.start_s < span.end_s <= lo + actual_slot - sch.GAP_S + 1e-3  # rounded
        room = actual_slot - 2 * sch.GAP_S
        assert sch.SLOT_SPAN_MIN * room - 1e-3 <= span.end_s - span.start_s <= sch.SLOT_SPAN_MAX * room + 1e-3
    for a, b in itertools.pairwise(spans):
        assert b.start_s - a.end_s >= 2 * sch.GAP_S - 1e-6


def test_slot_seconds_gives_long_spans_with_normal_traffic_between() -> None:
    spans = sch.make_schedule(get_scenario("mixed"), 600.0, 1, slot_s=60.0)
    lengths = [s.end_s - s.start_s for s in spans]
    assert len(spans) == 10 and min(lengths) >= 29.0 and max(lengths) > sch.MAX_SPAN_S  # MAX_SPAN_S lifted
    assert {s.kind for s in spans} == set(KINDS)  # the cycle repeats to fill every slot
    gaps = [b.start_s - a.end_s for a, b in itertools.pairwise(spans)]
    assert sum(gaps) >= 0.15 * 600 * 0.9  # ~15-50 % of each slot is normal traffic


def test_slot_seconds_repeats_each_kind_evenly() -> None:
    spans = sch.make_schedule(get_scenario("degraded"), 600.0, 3, slot_s=60.0)
    counts = {k: sum(s.kind == k for s in spans) for k in ("congestion", "loss", "outage")}
    assert sorted(counts.values()) == [3, 3, 4]


def test_slot_seconds_default_is_the_old_schedule() -> None:
    # Without slot_s the schedule (times, kinds, magnitudes) is what it always was: old runs stay reproducible.
    spans = sch.make_schedule(get_scenario("mixed"), 40.0, 1)
    assert [s.kind for s in spans][:2] == ["congestion", "slow_server"]
    assert (spans[0].start_s, spans[0].end_s) == (5.277, 7.745)
    assert all(s.end_s - s.start_s <= sch.MAX_SPAN_S for s in sch.make_schedule(get_scenario("voip"), 3600.0, 2))
    assert sch.make_schedule(get_scenario("mixed"), 40.0, 1, slot_s=10.0) != spans


def test_slot_seconds_too_short() -> None:
    with pytest.raises(ValueError, match="slot length"):
        sch.make_schedule(get_scenario("mixed"), 60.0, 1, slot_s=1.0)
