"""Bidirectional flows from decoded packets: `build_flows(packets, analysis, FlowConfig())`. See docs/flows.md."""

from netqos.flows.build import build_flows
from netqos.flows.config import FlowConfig
from netqos.flows.schema import FLOW_SCHEMA

__all__ = ["FLOW_SCHEMA", "FlowConfig", "build_flows"]
