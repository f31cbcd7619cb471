"""Example feature plugins that ship with netqos (enabled by name, never by default)."""
