"""Plugin API: extra flow and window columns, found through the `netqos.features` entry-point group.

NFStream's per-packet hooks (on_init / on_update / on_expire) become vectorised calls here, because the
features run over whole Arrow batches, never one Python object per packet:

    on_init(cfg)            once per featurize() call, before anything is computed
    on_flows(ctx)           NFStream's on_update over every packet + on_expire, for all flows at once:
                            return {column: one value per flow, in ctx's flow order}
    on_windows(groups)      the same for QoS windows: {column: one value per window row of `groups`}

A plugin declares its columns (name, Arrow type, doc) in `flow_columns` / `window_columns`; they are appended to
the `flows` and `qos_windows` schemas. Register it in your package's pyproject.toml:

    [project.entry-points."netqos.features"]
    small_packets = "netqos.features.examples.small_packets:SmallPackets"

and enable it by name: `FeatureConfig(plugins=("small_packets",))`, or `[features] plugins = [...]` in
netqos.toml. docs/plugins.md walks through the example.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from netqos.analysis.columns import column, ints

if TYPE_CHECKING:
    from netqos.features.config import FeatureConfig
    from netqos.features.windows import WindowGroups
    from netqos.flows.build import FlowAssignment

ENTRY_POINT_GROUP = "netqos.features"
Column = tuple[str, pa.DataType, str]


@dataclass(frozen=True)
class FlowContext:
    """All packets of a featurize() call, cut into flows. Per-row arrays follow `order`: flow f is the slice
    order[starts[f]:starts[f + 1]] (time order). Results are returned per flow in output order (`out`)."""

    packets: pa.Table
    features: pa.Table  # per-packet features, row-aligned with packets
    assignment: FlowAssignment

    @property
    def n_flows(self) -> int:
        return self.assignment.n_flows

    def values(self, name: str, fill: int = 0) -> np.ndarray:
        """Integer column of packets (or features) in flow order, nulls -> fill."""
        table = self.packets if name in self.packets.column_names else self.features
        out: np.ndarray = ints(column(table, name), table.num_rows, fill)[self.assignment.order]
        return out

    @property
    def direction(self) -> np.ndarray:
        """Per row in flow order: 0 initiator -> responder, 1 back."""
        return self.assignment.fdir

    def flow_sum(self, values: np.ndarray) -> np.ndarray:
        """Sum per flow of per-row values in flow order, in output order."""
        starts = self.assignment.starts
        if starts.shape[0] < 2:
            return np.zeros(0, np.float64)
        sums = np.add.reduceat(values.astype(np.float64), starts[:-1]) if values.shape[0] else np.zeros(0)
        return self.out(sums)

    def out(self, per_flow: np.ndarray) -> np.ndarray:
        """Per-flow values in cut order -> output order (the order of the flows table)."""
        out: np.ndarray = per_flow[self.assignment.perm]
        return out


class FeaturePlugin:
    """Base class: override what you need. Instances are created once per featurize() call."""

    name: str = ""
    flow_columns: Sequence[Column] = ()
    window_columns: Sequence[Column] = ()

    def on_init(self, cfg: FeatureConfig) -> None:
        """Called once before any feature is computed."""

    def on_flows(self, ctx: FlowContext) -> Mapping[str, np.ndarray | pa.Array]:
        return {}

    def on_windows(self, groups: WindowGroups) -> Mapping[str, np.ndarray | pa.Array]:
        return {}


def available_plugins() -> dict[str, str]:
    """Entry-point name -> 'module:attr' of every installed plugin."""
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def load_plugins(names: Sequence[str], cfg: FeatureConfig) -> list[FeaturePlugin]:
    """Instantiate the named plugins (in that order) and call on_init; unknown names are an error."""
    eps = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    plugins = []
    for name in names:
        if name not in eps:
            raise ValueError(
                f"unknown feature plugin {name!r}: installed plugins are {sorted(eps) or 'none'} "
                f"(entry-point group {ENTRY_POINT_GROUP!r})"
            )
        plugin = eps[name].load()()
        if not isinstance(plugin, FeaturePlugin):
            raise TypeError(f"plugin {name!r} ({eps[name].value}) must subclass netqos.features.FeaturePlugin")
        plugin.on_init(cfg)
        plugins.append(plugin)
    return plugins


def append_columns(
    table: pa.Table, columns: Sequence[Column], values: Mapping[str, np.ndarray | pa.Array], what: str
) -> pa.Table:
    """Append a plugin's declared columns, checking that it returned each one with the right length."""
    for name, dtype, doc in columns:
        if name not in values:
            raise ValueError(f"feature plugin did not return its declared {what} column {name!r}")
        if name in table.column_names:
            raise ValueError(f"feature plugin column {name!r} clashes with an existing {what} column")
        arr = values[name]
        arr = arr if isinstance(arr, pa.Array) else pa.array(arr, dtype, from_pandas=True)
        if len(arr) != table.num_rows:
            raise ValueError(f"plugin {what} column {name!r} has {len(arr)} values for {table.num_rows} rows")
        table = table.append_column(pa.field(name, dtype, nullable=True, metadata={"doc": doc}), arr.cast(dtype))
    return table
