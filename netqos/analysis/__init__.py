"""Per-packet analyses over decoded packets (Arrow tables in the `packets` schema of netqos.decode)."""

from netqos.analysis.tcp import ANALYSIS_SCHEMA, analyze

__all__ = ["ANALYSIS_SCHEMA", "analyze"]
