output "bucket_names" {
  description = "Bucket name per role: landing, lakehouse, mlflow-artifacts, reports, code, airflow."
  value       = { for k, b in aws_s3_bucket.data : k => b.id }
}

output "bucket_arns" {
  description = "Bucket ARN per role (same keys as bucket_names)."
  value       = { for k, b in aws_s3_bucket.data : k => b.arn }
}

output "access_log_bucket_name" {
  description = "Name of the bucket receiving the S3 server access logs (prefix s3/<bucket>/)."
  value       = aws_s3_bucket.logs.id
}

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting the data buckets (null with SSE-S3). Roles that read or write the buckets need kms:Decrypt/GenerateDataKey on it."
  value       = local.kms_key_arn
}
