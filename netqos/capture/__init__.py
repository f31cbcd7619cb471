"""The capture agent: capture backends write rotated files into a spool; closed files are finalized (metadata,
fsync, rename) and uploaded to the landing bucket exactly once. docs/capture.md."""
