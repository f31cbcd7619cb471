"""Object storage (S3 / MinIO) access, configured from Settings.s3 only."""
