"""Each kind of check on crafted pandas frames: one clean file, and one file per corruption, so every test can
assert that its check fires AND blames exactly the corrupted file (a broken check or attribution fails)."""

from __future__ import annotations

import json

import pytest
from quality_frames import SHA_A, make_frame

from netqos.quality import ValidationFailed, raise_for_failure, validate
from netqos.quality.attribution import RowCheck
from netqos.quality.ledger_checks import IN_LEDGER, ROWS_AT_MOST, ROWS_MATCH, TS_BOUNDS, ledger_failures

BETWEEN = "expect_column_values_to_be_between"
NOT_NULL = "expect_column_values_to_not_be_null"
IN_SET = "expect_column_values_to_be_in_set"
A_GE_B = "expect_column_pair_values_a_to_be_greater_than_b"

# (table, test id, corrupted row values, expectation type, its column or (column_A, column_B))
CASES = [
    ("packets", "src_port_70000", {"src_port": 70000}, BETWEEN, "src_port"),
    ("packets", "dst_port_negative", {"dst_port": -1}, BETWEEN, "dst_port"),
    ("packets", "ip_ttl_300", {"ip_ttl": 300}, BETWEEN, "ip_ttl"),
    ("packets", "cap_len_negative", {"cap_len": -5, "wire_len": 10}, BETWEEN, "cap_len"),
    ("packets", "cap_len_above_wire_len", {"cap_len": 1500, "wire_len": 60}, A_GE_B, ("wire_len", "cap_len")),
    ("packets", "tcp_window_negative", {"tcp_window": -1}, BETWEEN, "tcp_window"),
    ("packets", "ip_version_5", {"ip_version": 5}, IN_SET, "ip_version"),
    ("packets", "null_frame_no", {"frame_no": None}, NOT_NULL, "frame_no"),
    ("tcp_analysis", "window_size_negative", {"tcp_window_size": -1}, BETWEEN, "tcp_window_size"),
    ("tcp_analysis", "rtt_negative", {"tcp_ack_rtt": -0.5}, BETWEEN, "tcp_ack_rtt"),
    ("tcp_analysis", "flow_dir_2", {"flow_dir": 2}, IN_SET, "flow_dir"),
    ("flows", "first_after_last", {"first_ts_ns": 5_000, "last_ts_ns": 4_000}, A_GE_B, ("last_ts_ns", "first_ts_ns")),
    ("flows", "duration_negative", {"duration_s": -1.0}, BETWEEN, "duration_s"),
    ("flows", "port_70000", {"src_port": 70000}, BETWEEN, "src_port"),
    ("flows", "null_flow_id", {"flow_id": None}, NOT_NULL, "flow_id"),
]


def _sha(i: int) -> str:
    return f"{i:064x}"


def _columns(f) -> str | tuple[str, str]:
    return f.kwargs["column"] if "column" in f.kwargs else (f.kwargs["column_A"], f.kwargs["column_B"])


@pytest.fixture(scope="module")
def outcomes():
    """One validation per table: SHA_A clean, file i carrying CASES[i]'s corruption (and only that one)."""
    out = {}
    for table in dict.fromkeys(c[0] for c in CASES):
        rows = [{}]
        for i, case in enumerate(CASES):
            if case[0] == table:
                rows.append({**case[2], ("first_file_sha256" if table == "flows" else "file_sha256"): _sha(i)})
        out[table] = validate(None, make_frame(table, rows), table, run_id="unit")
    return out


@pytest.mark.parametrize("case", range(len(CASES)), ids=[c[1] for c in CASES])
def test_check_catches_the_corruption_and_blames_only_that_file(outcomes, case):
    table, _, _, etype, columns = CASES[case]
    outcome = outcomes[table]
    hits = [f for f in outcome.failures if f.expectation_type == etype and _columns(f) == columns]
    assert hits, f"{etype} on {columns} did not fire: {[f.describe() for f in outcome.failures]}"
    assert hits[0].files == (_sha(case),)
    assert hits[0].unexpected_count == 1
    assert _sha(case) in outcome.bad_files
    assert SHA_A in outcome.clean_files


def test_every_corrupted_file_and_only_those_are_bad(outcomes):
    for table, outcome in outcomes.items():
        expected = {_sha(i) for i, c in enumerate(CASES) if c[0] == table}
        assert outcome.bad_files == expected, table
        assert not outcome.batch_failure


@pytest.mark.parametrize("table", ["packets", "tcp_analysis", "flows", "qos_windows"])
def test_valid_rows_pass(table):
    outcome = validate(None, make_frame(table, [{}]), table, run_id="unit")
    assert outcome.success, [f.describe() for f in outcome.failures]
    raise_for_failure(outcome)


def test_qos_rates_must_be_shares():
    outcome = validate(None, make_frame("qos_windows", [{}, {"icmp_unreachable_rate": 1.5}]), "qos_windows", run_id="u")
    (f,) = outcome.failures
    assert (f.expectation_type, f.kwargs["column"], f.unexpected_count) == (BETWEEN, "icmp_unreachable_rate", 1)
    assert f.files is None and outcome.batch_failure  # qos_windows has no file column: the batch fails


def test_window_s_must_be_a_configured_length():
    df = make_frame("qos_windows", [{"window_s": 10}, {"window_s": 30}])
    failed = validate(None, df, "qos_windows", run_id="u")
    assert [(f.expectation_type, f.kwargs["column"]) for f in failed.failures] == [(IN_SET, "window_s")]
    assert validate(None, df, "qos_windows", run_id="u", window_seconds=(10, 30)).success


def test_a_missing_column_fails_the_whole_batch():
    df = make_frame("flows", [{}, {"first_file_sha256": _sha(1)}]).drop(columns=["bytes"])
    outcome = validate(None, df, "flows", run_id="u")
    kinds = {f.expectation_type for f in outcome.failures}
    assert "expect_table_columns_to_match_ordered_list" in kinds
    assert outcome.batch_failure
    assert outcome.bad_files == {SHA_A, _sha(1)}


def test_plugin_columns_are_a_schema_failure_unless_declared():
    df = make_frame("qos_windows", [{}]).assign(small_packets=1)
    assert validate(None, df, "qos_windows", run_id="u").batch_failure
    assert validate(None, df, "qos_windows", run_id="u", extra_columns=["small_packets"]).success


def test_raise_for_failure_lists_the_failed_expectations(outcomes):
    with pytest.raises(ValidationFailed) as info:
        raise_for_failure(outcomes["flows"])
    message = str(info.value)
    assert "expect_column_pair_values_a_to_be_greater_than_b" in message
    assert "column_A='last_ts_ns'" in message
    assert info.value.outcome is outcomes["flows"]


def test_outcome_is_json_able(outcomes):
    data = json.loads(outcomes["packets"].to_json())
    assert data["success"] is False
    assert data["bad_files"] == sorted(outcomes["packets"].bad_files)
    assert data["gx_result"]["suite_name"] == "packets"


def test_row_predicates_as_sql():
    between = RowCheck(BETWEEN, {"column": "src_port", "min_value": 0, "max_value": 65535})
    assert between.sql() == "(`src_port` IS NOT NULL AND (`src_port` < 0 OR `src_port` > 65535))"
    pair = RowCheck(A_GE_B, {"column_A": "last_ts_ns", "column_B": "first_ts_ns", "or_equal": True})
    assert (
        pair.sql() == "(`last_ts_ns` IS NOT NULL AND `first_ts_ns` IS NOT NULL AND NOT (`last_ts_ns` >= `first_ts_ns`))"
    )
    in_set = RowCheck(IN_SET, {"column": "class", "value_set": ["a'b", 1]})
    assert in_set.sql() == "(`class` IS NOT NULL AND NOT (`class` IN ('a\\'b', 1)))"


def _stats(file: str, rows: int, lo: int | None, hi: int | None, packets: int | None = None, in_ledger: bool = True):
    return {
        "file": file,
        "rows": rows,
        "min_us": lo,
        "max_us": hi,
        "ledger_packets": rows if packets is None else packets,
        "ledger_first_us": 100,
        "ledger_last_us": 200,
        "in_ledger": in_ledger or None,
    }


def test_ledger_checks_blame_the_file_that_disagrees():
    stats = [
        _stats("ok", 3, 100, 200),
        _stats("short", 2, 100, 200, packets=3),
        _stats("late", 3, 100, 201),
        _stats("early", 3, 99, 200),
        _stats("unknown", 3, 100, 200, in_ledger=False),
    ]
    by_type = {f.expectation_type: f for f in ledger_failures("packets", stats)}
    assert by_type[ROWS_MATCH].files == ("short",)
    assert by_type[ROWS_MATCH].observed_value == {"short": {"rows": 2, "ledger_packets": 3}}
    assert by_type[TS_BOUNDS].files == ("early", "late")
    assert by_type[IN_LEDGER].files == ("unknown",)
    assert all(f.source == "ledger" for f in by_type.values())


def test_ledger_file_without_rows_is_a_packets_count_mismatch():
    gone = {"file": "gone", "rows": None, "min_us": None, "max_us": None, "ledger_packets": 7, "in_ledger": True}
    (f,) = ledger_failures("packets", [gone])
    assert (f.expectation_type, f.files) == (ROWS_MATCH, ("gone",))


def test_tcp_analysis_rows_may_be_fewer_than_packets_but_not_more():
    assert ledger_failures("tcp_analysis", [_stats("fewer", 2, 100, 200, packets=3)]) == []
    (f,) = ledger_failures("tcp_analysis", [_stats("more", 4, 100, 200, packets=3)])
    assert (f.expectation_type, f.files) == (ROWS_AT_MOST, ("more",))
