"""Features of decoded packets: per-packet TCP analysis and flow membership, flows and QoS windows.

    from netqos.features import FeatureConfig, featurize
    feats = featurize(packets, FeatureConfig())   # .packets, .flows, .windows (Arrow tables)

Schemas: PACKET_FEATURES_SCHEMA (table `tcp_analysis`), netqos.flows.FLOW_SCHEMA (`flows`), WINDOW_SCHEMA
(`qos_windows`). Column docs: docs/schema/.
"""

from netqos.features.config import FeatureConfig
from netqos.features.pipeline import Features, featurize
from netqos.features.plugins import FeaturePlugin, FlowContext
from netqos.features.schema import PACKET_FEATURES_SCHEMA, WINDOW_SCHEMA
from netqos.features.windows import WindowGroups, qos_windows

__all__ = [
    "PACKET_FEATURES_SCHEMA",
    "WINDOW_SCHEMA",
    "FeatureConfig",
    "FeaturePlugin",
    "Features",
    "FlowContext",
    "WindowGroups",
    "featurize",
    "qos_windows",
]
