"""Delta Lake tables: their specs (tables.py) and the ingest ledger (ledger.py). See docs/tables.md."""
