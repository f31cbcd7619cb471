"""The `netqos` command line (also `python -m netqos`)."""
