output "application_id" {
  description = "EMR Serverless application id (application_id of EmrServerlessStartJobOperator)."
  value       = aws_emrserverless_application.spark.id
}

output "application_arn" {
  description = "EMR Serverless application ARN (the IAM module scopes StartJobRun and the Spark role's trust to it)."
  value       = aws_emrserverless_application.spark.arn
}

output "log_group_arn" {
  description = "ARN of the CloudWatch log group of the job runs."
  value       = aws_cloudwatch_log_group.spark.arn
}

output "log_group_name" {
  description = "Name of the CloudWatch log group of the job runs."
  value       = aws_cloudwatch_log_group.spark.name
}

output "security_group_id" {
  description = "Security group of the job workers (null without vpc_id): allow it into the metastore database."
  value       = local.in_vpc ? aws_security_group.spark[0].id : null
}

output "code_uri" {
  description = "S3 URI under which the job code, the packed Python environment and the jars are uploaded."
  value       = "s3://${var.code_bucket_name}/"
}
