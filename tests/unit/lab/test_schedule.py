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
