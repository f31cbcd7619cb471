"""Feature plugins: entry-point discovery, the small_packets example against an independent count, and the checks
on what a plugin returns."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from importlib.metadata import EntryPoint

import numpy as np
import pyarrow as pa
import pytest

from netqos.features import FeatureConfig, FeaturePlugin, FlowContext, WindowGroups, featurize, qos_windows
from netqos.features import plugins as plugins_mod
from netqos.features.examples.small_packets import SmallPackets
from netqos.features.plugins import ENTRY_POINT_GROUP, append_columns, available_plugins, load_plugins
from netqos.flows import FLOW_SCHEMA

S = 1_000_000_000


def test_example_is_found_through_the_entry_point() -> None:
    assert available_plugins()["small_packets"] == "netqos.features.examples.small_packets:SmallPackets"
    (plugin,) = load_plugins(("small_packets",), FeatureConfig())
    assert type(plugin) is SmallPackets and plugin.name == "small_packets"
    assert load_plugins((), FeatureConfig()) == []


def test_unknown_plugin_names_the_installed_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown feature plugin 'nope'.*small_packets"):
        load_plugins(("nope",), FeatureConfig())
    with pytest.raises(ValueError, match="nope"):
        featurize(pa.table({"ts_ns": [1], "ip_src": ["a"], "ip_dst": ["b"]}), FeatureConfig(plugins=("nope",)))


@pytest.mark.parametrize("name", ["zeek-ssh.pcap", "tcpreplay-test.pcap", "aircrack-radiotap-test1.pcap"])
def test_small_packets_columns_match_independent_count(name: str, capture: Callable[[str], pa.Table]) -> None:
    packets = capture(name)
    plain = featurize(packets, FeatureConfig())
    feats = featurize(packets, FeatureConfig(plugins=("small_packets",)))
    assert feats.flows.column_names == [*FLOW_SCHEMA.names, "small_packets", "small_packet_share"]
    assert feats.flows.schema.field("small_packets").type == pa.int64()
    assert feats.flows.drop_columns(["small_packets", "small_packet_share"]).equals(plain.flows)
    assert feats.windows.drop_columns(["small_packet_share"]).equals(plain.windows)
    assert feats.packets.equals(plain.packets)

    wire = packets.column("wire_len").to_pylist()
    fid = feats.packets.column("flow_id").to_pylist()
    small: dict[int, int] = defaultdict(int)
    total: dict[int, int] = defaultdict(int)
    for f, w in zip(fid, wire, strict=True):
        if f is not None:
            total[f] += 1
            small[f] += w is not None and w < 128
    any_small = False
    for row in feats.flows.to_pylist():
        f = row["flow_id"]
        assert row["small_packets"] == small[f]
        assert row["small_packet_share"] == pytest.approx(small[f] / total[f])
        any_small |= 0 < small[f] < total[f]
    assert any_small or name == "aircrack-radiotap-test1.pcap"

    # windows: share of the packets of the row (by window, dimension and class) with wire_len < 128
    ts = packets.column("ts_ns").to_pylist()
    classes = {
        "all": ["all"] * len(ts),
        "service": feats.packets.column("service_class").to_pylist(),
        "dscp": feats.packets.column("dscp_class").to_pylist(),
    }
    counts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for w in (10, 60):
        for dim, cls in classes.items():
            for i, t in enumerate(ts):
                if t is not None and cls[i] is not None:
                    c = counts[(w, t // (w * S) * w * S, dim, cls[i])]
                    c[0] += wire[i] is not None and wire[i] < 128
                    c[1] += 1
    rows = feats.windows.to_pylist()
    assert len(rows) == len(counts)
    for r in rows:
        n_small, n = counts[(r["window_s"], r["window_start_ns"], r["dimension"], r["class"])]
        assert r["packets"] == n
        assert r["small_packet_share"] == pytest.approx(n_small / n)


# ------------------------------------------------------------------------------------------- misbehaving plugins


class Configurable(FeaturePlugin):
    """A test plugin whose results are set per test: `flow_result` / `window_result` map row count -> columns."""

    name = "configurable"
    flow_columns = (("flow_x", pa.int64(), "test"), ("flow_y", pa.float64(), "test"))
    window_columns = (("window_x", pa.float64(), "test"),)
    seen_cfg: FeatureConfig | None = None
    flow_result: Callable[[int], Mapping[str, object]] = staticmethod(
        lambda n: {"flow_x": np.arange(n), "flow_y": np.ones(n)}
    )
    window_result: Callable[[int], Mapping[str, object]] = staticmethod(lambda n: {"window_x": np.zeros(n)})

    def on_init(self, cfg: FeatureConfig) -> None:
        Configurable.seen_cfg = cfg

    def on_flows(self, ctx: FlowContext) -> Mapping[str, np.ndarray | pa.Array]:
        return Configurable.flow_result(ctx.n_flows)  # type: ignore[return-value]

    def on_windows(self, groups: WindowGroups) -> Mapping[str, np.ndarray | pa.Array]:
        return Configurable.window_result(groups.n_groups)  # type: ignore[return-value]


class NotAPlugin:
    pass


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> type[Configurable]:
    """Register Configurable (and NotAPlugin) as entry points next to the installed ones."""
    real = plugins_mod.entry_points
    extra = [
        EntryPoint("configurable", f"{__name__}:Configurable", ENTRY_POINT_GROUP),
        EntryPoint("not_a_plugin", f"{__name__}:NotAPlugin", ENTRY_POINT_GROUP),
    ]

    def fake(*, group: str) -> list[EntryPoint]:
        return [*real(group=group), *extra] if group == ENTRY_POINT_GROUP else list(real(group=group))

    monkeypatch.setattr(plugins_mod, "entry_points", fake)
    monkeypatch.setattr(Configurable, "flow_result", Configurable.flow_result)
    monkeypatch.setattr(Configurable, "window_result", Configurable.window_result)
    Configurable.seen_cfg = None
    return Configurable


def _packets() -> pa.Table:
    n = 6
    return pa.table(
        {
            "frame_no": pa.array(range(1, n + 1), pa.int64()),
            "ts_ns": pa.array([i * S // 2 for i in range(n)], pa.int64()),
            "ip_src": ["10.0.0.1", "10.0.0.2", "10.0.0.1", "10.0.0.3", "10.0.0.3", "10.0.0.4"],
            "ip_dst": ["10.0.0.2", "10.0.0.1", "10.0.0.2", "10.0.0.4", "10.0.0.4", "10.0.0.3"],
            "ip_proto": pa.array([17] * n, pa.int16()),
            "src_port": pa.array([1000, 53, 1000, 2000, 2000, 80], pa.int32()),
            "dst_port": pa.array([53, 1000, 53, 80, 80, 2000], pa.int32()),
            "wire_len": pa.array([60, 200, 60, 1500, 70, 90], pa.int32()),
            "tcp_flags": pa.array([None] * n, pa.int16()),
            "tcp_seq": pa.array([None] * n, pa.int64()),
            "tcp_ack": pa.array([None] * n, pa.int64()),
        }
    )


def test_configured_plugin_runs_through_featurize(registered: type[Configurable]) -> None:
    cfg = FeatureConfig(plugins=("configurable", "small_packets"))
    feats = featurize(_packets(), cfg)
    assert registered.seen_cfg is cfg
    assert feats.flows.num_rows == 2
    assert feats.flows.column("flow_x").to_pylist() == [0, 1] and feats.flows.column("flow_y").type == pa.float64()
    assert feats.flows.column_names[-4:] == ["flow_x", "flow_y", "small_packets", "small_packet_share"]
    assert feats.windows.column_names[-2:] == ["window_x", "small_packet_share"]
    assert feats.windows.schema.field("window_x").metadata == {b"doc": b"test"}


def test_small_packets_threshold_is_strictly_below_128_bytes() -> None:
    packets = _packets()
    packets = packets.set_column(
        packets.column_names.index("wire_len"), "wire_len", pa.array([127, 128, 60, 1500, 129, 90], pa.int32())
    )
    feats = featurize(packets, FeatureConfig(plugins=("small_packets",)))
    flows = {r["src_addr"]: r for r in feats.flows.to_pylist()}
    assert (flows["10.0.0.1"]["small_packets"], flows["10.0.0.1"]["small_packet_share"]) == (2, 2 / 3)
    assert (flows["10.0.0.3"]["small_packets"], flows["10.0.0.3"]["small_packet_share"]) == (1, 1 / 3)
    (row,) = [r for r in feats.windows.to_pylist() if r["window_s"] == 10 and r["dimension"] == "all"]
    assert row["small_packet_share"] == pytest.approx(3 / 6)


def test_plugin_that_is_not_a_feature_plugin(registered: type[Configurable]) -> None:
    with pytest.raises(TypeError, match="must subclass"):
        load_plugins(("not_a_plugin",), FeatureConfig())


def test_wrong_flow_column_length_raises(registered: type[Configurable]) -> None:
    registered.flow_result = staticmethod(lambda n: {"flow_x": np.arange(n + 1), "flow_y": np.ones(n)})
    with pytest.raises(ValueError, match=r"'flow_x' has 3 values for 2 rows"):
        featurize(_packets(), FeatureConfig(plugins=("configurable",)))


def test_missing_flow_column_raises(registered: type[Configurable]) -> None:
    registered.flow_result = staticmethod(lambda n: {"flow_x": np.arange(n)})
    with pytest.raises(ValueError, match="did not return its declared flow column 'flow_y'"):
        featurize(_packets(), FeatureConfig(plugins=("configurable",)))


def test_append_columns_checks() -> None:
    flows = pa.table({"flow_id": [1, 2, 3]})
    cols = (("x", pa.int32(), "doc x"),)
    out = append_columns(flows, cols, {"x": np.array([1.0, 2.0, 3.0])}, "flow")
    assert out.schema.field("x").type == pa.int32() and out.column("x").to_pylist() == [1, 2, 3]
    out = append_columns(flows, cols, {"x": pa.array([7, None, 9], pa.int64())}, "flow")
    assert out.column("x").type == pa.int32() and out.column("x").to_pylist() == [7, None, 9]
    with pytest.raises(ValueError, match="has 2 values for 3 rows"):
        append_columns(flows, cols, {"x": np.array([1, 2])}, "flow")
    with pytest.raises(ValueError, match="has 4 values for 3 rows"):
        append_columns(flows, cols, {"x": pa.array([1, 2, 3, 4])}, "flow")
    with pytest.raises(ValueError, match="did not return its declared flow column 'x'"):
        append_columns(flows, cols, {"y": np.array([1, 2, 3])}, "flow")
    with pytest.raises(ValueError, match="clashes"):
        append_columns(flows, (("flow_id", pa.int64(), ""),), {"flow_id": np.array([1, 2, 3])}, "flow")


def _window_input() -> pa.Table:
    return pa.table({"ts_ns": pa.array([0, S, 20 * S], pa.int64()), "flow_id": pa.array([1, 1, 2], pa.int64()),
                     "wire_len": pa.array([60, 600, 60], pa.int32())})  # fmt: skip


def test_window_plugin_values_land_on_their_rows() -> None:
    class Share(FeaturePlugin):
        window_columns = (("packets_again", pa.int64(), "packets, through the plugin API"),)

        def on_windows(self, groups: WindowGroups) -> Mapping[str, np.ndarray]:
            return {"packets_again": groups.count(np.ones(groups.table.num_rows, np.bool_))}

    out = qos_windows(_window_input(), (10, 60), plugins=[Share()])
    assert out.column("packets_again").equals(out.column("packets"))
    assert out.column("packets").to_pylist() == [2, 1, 3]


def test_wrong_window_column_length_raises() -> None:
    class Bad(FeaturePlugin):
        window_columns = (("bad", pa.float64(), ""),)

        def on_windows(self, groups: WindowGroups) -> Mapping[str, np.ndarray]:
            return {"bad": np.zeros(groups.n_groups + 1)}

    with pytest.raises(ValueError, match="bad"):
        qos_windows(_window_input(), (10,), plugins=[Bad()])


def test_missing_window_column_raises() -> None:
    class Missing(FeaturePlugin):
        window_columns = (("declared", pa.float64(), ""),)

        def on_windows(self, groups: WindowGroups) -> Mapping[str, np.ndarray]:
            return {}

    with pytest.raises(ValueError, match="declared"):
        qos_windows(_window_input(), (10,), plugins=[Missing()])


def test_window_plugin_column_clashing_with_core_column_raises() -> None:
    class Clash(FeaturePlugin):
        window_columns = (("packets", pa.int64(), ""),)

        def on_windows(self, groups: WindowGroups) -> Mapping[str, np.ndarray]:
            return {"packets": np.full(groups.n_groups, 99)}

    with pytest.raises(ValueError, match="clash"):
        qos_windows(_window_input(), (10,), plugins=[Clash()])
