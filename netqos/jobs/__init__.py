"""Batch jobs; each `<job>.py` has extract/transform/load and a `main()` that jobs/spark/<job>.py calls."""
